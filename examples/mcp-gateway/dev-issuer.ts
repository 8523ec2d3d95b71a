/**
 * A development authorization server: `oidc-provider` (the OpenID Certified Node implementation) on
 * loopback, issuing RFC 9068 JWT access tokens (`typ: at+jwt`) for the gateway's workspace endpoints
 * (RFC 8707 resource indicators). `npm run example:gateway` starts it; the tests run it for real.
 *
 * Development only: its sign-in page (oidc-provider's devInteractions) takes any password, its
 * clients and their secrets come from a config file anyone with the repository can read, and its
 * signing key lives in memory. It refuses to listen on anything but loopback.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors, type ClientMetadata } from 'oidc-provider';

/** The one scope the gateway knows: `tools/list` and `tools/call`. */
export const TOOLS_SCOPE = 'mcp:tools';

export interface DevUser {
  /** What one types at the sign-in page; it is also the token's `sub`, which the snapshot's `externalId` maps to a member. */
  readonly login: string;
  readonly name?: string;
}

export interface DevIssuerOptions {
  readonly port?: number;
  readonly host?: string;
  /** Whether tokens may be issued for this resource indicator (the gateway's workspace endpoints). */
  readonly resource: (indicator: string) => boolean;
  readonly users: readonly DevUser[];
  readonly clients: readonly ClientMetadata[];
  /** A private signing JWK (with `kid` and `alg`); one is generated when absent. Tests pass their own to forge tokens. */
  readonly signingKey?: JWK;
  readonly accessTokenTtlSeconds?: number;
  /** Open dynamic client registration (RFC 7591), as MCP clients use it (default true). */
  readonly registration?: boolean;
}

export interface DevIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** A fresh ES256 signing key, as a private JWK with `kid` and `alg`. */
export async function generateSigningKey(kid = `dev-${randomBytes(6).toString('hex')}`): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

export async function startDevIssuer(options: DevIssuerOptions): Promise<DevIssuer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`the development issuer listens on loopback only, not ${host}`);
  const http = createServer();
  await new Promise<void>((ready) => http.listen(options.port ?? 0, host, ready));
  const { port } = http.address() as AddressInfo;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const users = new Map(options.users.map((user) => [user.login, user]));
  const signingKey = options.signingKey ?? (await generateSigningKey());
  const ttl = options.accessTokenTtlSeconds ?? 300;
  const alg = (signingKey.alg ?? 'ES256') as 'ES256';

  const provider = new Provider(issuer, {
    clients: [...options.clients],
    jwks: { keys: [signingKey as never] },
    clientDefaults: { id_token_signed_response_alg: alg },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // Only the documented demo users exist; a token's `sub` is the login.
    scopes: ['openid', 'offline_access', TOOLS_SCOPE],
    findAccount: (_ctx, sub) => {
      const user = users.get(sub);
      return user === undefined ? undefined : { accountId: sub, claims: () => ({ sub, ...(user.name === undefined ? {} : { name: user.name }) }) };
    },
    pkce: { required: () => true },
    // Plain JSON errors and no browser CORS: a development issuer for MCP clients, not for web pages.
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
    clientBasedCORS: () => false,
    ttl: { AccessToken: ttl, ClientCredentials: ttl, Grant: 3600, Interaction: 600, Session: 3600 },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      registration: { enabled: options.registration ?? true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? (undefined as never),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (!options.resource(indicator)) throw new errors.InvalidTarget();
          return { scope: TOOLS_SCOPE, audience: indicator, accessTokenTTL: ttl, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
        },
      },
    },
  });
  http.on('request', provider.callback());

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    tokenEndpoint: `${issuer}/token`,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
    },
  };
}
