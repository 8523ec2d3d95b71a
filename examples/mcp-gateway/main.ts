/**
 * `npm run example:gateway`: starts the MCP gateway from the project root — and, unless an issuer is
 * configured, the development issuer beside it (dev-issuer.ts, with dev.config.json's demo users and
 * clients).
 *
 *   PORT                   port to listen on (default 8787; 0 picks a free one)
 *   HOST                   address to listen on (default 127.0.0.1)
 *   GATEWAY_BASE_URL       <base> of the workspace endpoints and token audiences (default http://HOST:PORT)
 *   SNAPSHOT               organization snapshot JSON (default examples/mcp-gateway/snapshot.json)
 *   GATEWAY_CONFIG         upstreams, issuer, session limits (default examples/mcp-gateway/gateway.config.json)
 *   OAUTH_ISSUER           the authorization server whose tokens are accepted (overrides the config file);
 *                          with none anywhere, the development issuer starts on DEV_ISSUER_PORT (default 8790)
 *   OAUTH_JWKS_URI         its JWKS, when not discovered from its metadata
 *   OAUTH_MEMBER_ID_CLAIM  the claim holding a member id, for members without an externalId
 *   GATEWAY_PROXY_SECRET   turns the trusted-front-proxy mode on, with this proof (32 characters or more)
 *   DATABASE_URL           follow the organization's change log on this PostgreSQL server instead of SNAPSHOT
 *   ORGANIZATION_ID        the organization to follow there (default org-acme, the sample the Admin API seeds)
 */
import { fileURLToPath } from 'node:url';
import { readConfig } from './config.js';
import { startDevIssuer, type DevIssuer } from './dev-issuer.js';
import { readDevConfig } from './dev.js';
import { startGateway } from './gateway.js';
import type { OAuthOptions } from './identity.js';
import { storeSource } from './store-source.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

async function main() {
  const env = process.env;
  const port = Number(env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${env.PORT}`);
  const host = env.HOST ?? '127.0.0.1';
  const config = readConfig(env.GATEWAY_CONFIG ?? here('./gateway.config.json'));
  const issuerUrl = env.OAUTH_ISSUER ?? config.oauth?.issuer;

  let devIssuer: DevIssuer | undefined;
  let base = env.GATEWAY_BASE_URL;
  let oauth: OAuthOptions;
  if (issuerUrl === undefined) {
    const dev = readDevConfig();
    devIssuer = await startDevIssuer({
      port: Number(env.DEV_ISSUER_PORT ?? dev.issuerPort),
      users: dev.users,
      clients: dev.clients,
      // Tokens only for this gateway's workspace endpoints (known once it listens).
      resource: (indicator) => base !== undefined && indicator.startsWith(`${base}/workspaces/`) && indicator.endsWith('/mcp'),
    });
    oauth = { issuer: devIssuer.issuer };
  } else {
    oauth = {
      ...config.oauth,
      issuer: issuerUrl,
      ...(env.OAUTH_JWKS_URI === undefined ? {} : { jwksUri: env.OAUTH_JWKS_URI }),
      ...(env.OAUTH_MEMBER_ID_CLAIM === undefined ? {} : { memberIdClaim: env.OAUTH_MEMBER_ID_CLAIM }),
    };
  }

  const source = env.DATABASE_URL === undefined ? undefined : await storeSource({ url: env.DATABASE_URL, organizationId: env.ORGANIZATION_ID ?? 'org-acme' });
  const gateway = await startGateway({
    ...(source === undefined ? { snapshotPath: env.SNAPSHOT ?? here('./snapshot.json') } : { source }),
    upstreams: config.upstreams,
    port,
    host,
    ...(base === undefined ? {} : { baseUrl: base }),
    oauth,
    ...(env.GATEWAY_PROXY_SECRET === undefined ? {} : { proxy: { secret: env.GATEWAY_PROXY_SECRET } }),
    sessions: config.sessions,
  });
  base = gateway.url;
  if (devIssuer !== undefined) {
    const dev = readDevConfig();
    // What a development issuer prints: where it is and who can sign in. Client secrets stay in dev.config.json.
    console.log(
      [
        `development issuer ${devIssuer.issuer} (DEVELOPMENT ONLY: any password signs in)`,
        `  users: ${dev.users.map((u) => u.login).join(', ')}`,
        `  clients: ${dev.clients.map((c) => `${c.client_id} (${(c.grant_types ?? []).join(', ')})`).join('; ')}; dynamic registration open`,
        `  a token for chloe at Research: npm run -s example:gateway:token -- chloe ws-research`,
        `  endpoints: ${gateway.endpoint('ws-research')}, ${gateway.endpoint('ws-marketing')}`,
      ].join('\n'),
    );
  }
  const stop = () =>
    void gateway
      .close()
      .then(() => source?.close())
      .then(() => devIssuer?.close())
      .then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
