/**
 * Who asks, proven (SPEC §9). A request presents one of:
 *
 * - `Authorization: Bearer <JWT>`: an OAuth 2.1 access token (RFC 9068) from the configured issuer,
 *   verified with `jose` against the issuer's JWKS — signature with an allow-listed asymmetric
 *   algorithm, `typ: at+jwt`, `iss`, `aud` = this workspace's endpoint (RFC 8707), `exp`/`nbf` with a
 *   small leeway. Its `sub` is matched against members' `externalId`, or, for members that have none,
 *   a configured claim holding the member id (SPEC §9.2);
 * - `Authorization: Bearer <API key secret>`: the SHA-256 of the secret matched against the snapshot's
 *   `apiKeys[].secrets` (SPEC §9.1), honouring each secret's `notAfter`;
 * - only when a front proxy is configured: its proof (a shared secret, compared in constant time) and
 *   the member it signed in. Without that configuration the member header is never read.
 *
 * Whether the principal may do anything is the policy's question, asked per call.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Member, Organization } from 'org-policy';

export const TOOLS_SCOPE = 'mcp:tools';
export const PROXY_SECRET_HEADER = 'x-org-proxy-secret';
export const PROXY_MEMBER_HEADER = 'x-org-member';
/** Asymmetric only: never `none`, never an HMAC, whose "secret" a confused verifier would take from a public key. */
export const TOKEN_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'] as const;
const MAX_ID_LENGTH = 256;
const MAX_BEARER_LENGTH = 8192;
/** Verified tokens remembered, so a session's requests pay for one signature check (oldest forgotten first). */
const VERIFIED_TOKENS = 10_000;

export interface Principal {
  readonly kind: 'member' | 'api_key';
  readonly id: string;
  /** How it was proven: for logs, and to know which scopes it carries. */
  readonly via: 'token' | 'api_key' | 'proxy';
  /** OAuth scopes; an API key and a proxy-signed member hold `mcp:tools` by what they are. */
  readonly scopes: ReadonlySet<string>;
  /** The token's `sub` and `client_id`, for logs (neither is a secret). */
  readonly subject?: string;
  readonly clientId?: string;
}

/** Why a credential was refused, in words fit for a log and a `WWW-Authenticate` description. */
export type CredentialProblem =
  | 'missing'
  | 'malformed'
  | 'unknown_api_key'
  | 'secret_expired'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_type'
  | 'algorithm_not_allowed'
  | 'bad_signature'
  | 'unknown_signing_key'
  | 'invalid_claims'
  | 'not_a_member'
  | 'issuer_unavailable'
  | 'bad_proxy_proof'
  | 'ambiguous';

export type Authentication =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly status: 400 | 401 | 503; readonly problem: CredentialProblem };

export interface OAuthOptions {
  /** The authorization server's issuer identifier: the `iss` every token must carry. */
  readonly issuer: string;
  /** Its JWKS; discovered from the issuer's metadata (RFC 8414, then OpenID discovery) when absent. */
  readonly jwksUri?: string;
  /** When members carry no `externalId`: the claim that holds the member id (SPEC §9.2). */
  readonly memberIdClaim?: string;
  /** Leeway for `exp` and `nbf`, in seconds (default 5). */
  readonly clockToleranceSeconds?: number;
  /** How long the JWKS is trusted before it is fetched again (default 10 minutes); an unknown `kid` refetches sooner. */
  readonly jwksCacheMaxAgeMs?: number;
}

export interface ProxyOptions {
  /** The secret the front proxy sends in `x-org-proxy-secret`; at least 32 characters. */
  readonly secret: string;
}

export interface IdentityOptions {
  readonly oauth?: OAuthOptions;
  readonly proxy?: ProxyOptions;
  /** The gateway's clock, epoch ms. */
  readonly now: () => number;
}

/** What authentication reads from the organization in force, indexed once per snapshot. */
export interface Directory {
  readonly organization: Organization;
  /** SHA-256 (hex) of a secret → its key, the stored hash's bytes and `notAfter` (epoch ms). */
  readonly secrets: ReadonlyMap<string, StoredSecret | 'ambiguous'>;
  memberByExternalId(subject: string): Member | undefined;
}

export interface StoredSecret {
  readonly keyId: string;
  readonly hash: Buffer;
  readonly notAfter: number | undefined;
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export function directory(organization: Organization): Directory {
  const secrets = new Map<string, StoredSecret | 'ambiguous'>();
  for (const key of organization.apiKeys.values()) {
    for (const secret of key.secrets ?? []) {
      const digest = secret.sha256.toLowerCase();
      // Two keys with one secret hash: neither is trusted with it.
      const notAfter = secret.notAfter === undefined ? undefined : Date.parse(secret.notAfter);
      secrets.set(digest, secrets.has(digest) ? 'ambiguous' : { keyId: key.id, hash: Buffer.from(digest, 'hex'), notAfter });
    }
  }
  let externalIds: Map<string, Member> | undefined;
  return {
    organization,
    secrets,
    // Built on the first token that needs it: O(members) once per snapshot, then a look-up.
    memberByExternalId(subject) {
      if (externalIds === undefined) {
        externalIds = new Map();
        for (const member of organization.members.values()) if (member.externalId !== undefined) externalIds.set(member.externalId, member);
      }
      return externalIds.get(subject);
    },
  };
}

export interface Authenticator {
  /** Authenticates one request to `workspace`'s endpoint, whose canonical URI is `audience`. */
  authenticate(headers: IncomingHttpHeaders, audience: string, directory: Directory): Promise<Authentication>;
  /** The issuer named in the resource metadata, if tokens are accepted. */
  readonly issuer: string | undefined;
}

export function authenticator(options: IdentityOptions): Authenticator {
  const verifyToken = options.oauth === undefined ? undefined : tokenVerifier(options.oauth, options.now);
  const proxySecret = options.proxy === undefined ? undefined : sha256(options.proxy.secret);
  if (options.proxy !== undefined && options.proxy.secret.length < 32) throw new Error('the front proxy secret must be at least 32 characters');

  return {
    issuer: options.oauth?.issuer,
    async authenticate(headers, audience, dir) {
      const authorization = single(headers.authorization);
      if (proxySecret !== undefined && headers[PROXY_SECRET_HEADER] !== undefined) {
        if (authorization !== undefined) return refuse(400, 'ambiguous');
        // Hashing both sides gives equal lengths, so the comparison takes the same time whatever is sent.
        if (!timingSafeEqual(sha256(single(headers[PROXY_SECRET_HEADER]) ?? ''), proxySecret)) return refuse(401, 'bad_proxy_proof');
        const member = single(headers[PROXY_MEMBER_HEADER]);
        if (member === undefined || member.length === 0 || member.length > MAX_ID_LENGTH) return refuse(400, 'malformed');
        return { ok: true, principal: { kind: 'member', id: member, via: 'proxy', scopes: new Set([TOOLS_SCOPE]) } };
      }
      if (authorization === undefined) return refuse(401, 'missing');
      const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
      if (match === null || match[1]!.length > MAX_BEARER_LENGTH) return refuse(401, 'malformed');
      const credential = match[1]!;
      const key = apiKeyOf(credential, dir, options.now());
      if (key !== undefined) return key;
      if (verifyToken === undefined || !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential)) return refuse(401, 'unknown_api_key');
      return verifyToken(credential, audience, dir);
    },
  };
}

/** SPEC §9.1: the digest of the presented secret, confirmed against the stored hash in constant time. */
function apiKeyOf(secret: string, dir: Directory, now: number): Authentication | undefined {
  const digest = sha256(secret);
  // The look-up is keyed by the digest, so its timing can only ever tell about a hash, never the secret.
  const entry = dir.secrets.get(digest.toString('hex'));
  if (entry === undefined) return undefined;
  if (entry === 'ambiguous') return refuse(401, 'ambiguous');
  if (!timingSafeEqual(digest, entry.hash)) return undefined;
  if (entry.notAfter !== undefined && !(now < entry.notAfter)) return refuse(401, 'secret_expired');
  // The key's status, expiry, workspace and scopes are the policy's to decide, per call.
  return { ok: true, principal: { kind: 'api_key', id: entry.keyId, via: 'api_key', scopes: new Set([TOOLS_SCOPE]) } };
}

function tokenVerifier(oauth: OAuthOptions, now: () => number) {
  const tolerance = oauth.clockToleranceSeconds ?? 5;
  let keySet: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const keys = () =>
    (keySet ??= jwksUri(oauth).then((uri) => createRemoteJWKSet(new URL(uri), { cacheMaxAge: oauth.jwksCacheMaxAgeMs ?? 600_000, cooldownDuration: 30_000, timeoutDuration: 5_000 })).catch((error: unknown) => {
      keySet = undefined; // Discovery failed: the next token tries again.
      throw error;
    }));

  // Verified tokens by (audience, exact token): a signature is checked once per token, its times on every request.
  const verified = new Map<string, JWTPayload>();

  return async (token: string, audience: string, dir: Directory): Promise<Authentication> => {
    const cacheKey = `${audience} ${token}`;
    let payload = verified.get(cacheKey);
    if (payload !== undefined) {
      const seconds = now() / 1000;
      if (typeof payload.exp === 'number' && payload.exp <= seconds - tolerance) {
        verified.delete(cacheKey);
        return refuse(401, 'token_expired');
      }
      if (typeof payload.nbf === 'number' && payload.nbf > seconds + tolerance) return refuse(401, 'token_not_yet_valid');
    } else {
      const checked = await verify(token, audience);
      if (!checked.ok) return checked.refusal;
      payload = checked.payload;
      if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
      verified.set(cacheKey, payload);
    }
    const member = memberOf(payload, oauth.memberIdClaim, dir);
    if (member === undefined) return refuse(401, 'not_a_member');
    const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : []);
    return {
      ok: true,
      principal: {
        kind: 'member',
        id: member.id,
        via: 'token',
        scopes,
        subject: String(payload.sub),
        ...(typeof payload.client_id === 'string' ? { clientId: payload.client_id } : {}),
      },
    };
  };

  async function verify(token: string, audience: string): Promise<{ ok: true; payload: JWTPayload } | { ok: false; refusal: Authentication }> {
    try {
      const jwks = await keys();
      const { payload } = await jwtVerify(token, jwks, {
        issuer: oauth.issuer,
        audience,
        algorithms: [...TOKEN_ALGORITHMS],
        typ: 'at+jwt',
        clockTolerance: tolerance,
        currentDate: new Date(now()),
        requiredClaims: ['exp', 'sub'],
      });
      return { ok: true, payload };
    } catch (error) {
      return { ok: false, refusal: refuse(error instanceof DiscoveryError ? 503 : 401, tokenProblem(error)) };
    }
  }
}

/**
 * SPEC §9.2: the member is the one whose `externalId` is the token's `sub`; with a configured claim, a
 * member that has no `externalId` may be named by id. A member that has an `externalId` is reached
 * through it only, so a token for a removed member never opens a later member who reuses its id.
 */
function memberOf(payload: JWTPayload, memberIdClaim: string | undefined, dir: Directory): Member | undefined {
  const bySubject = typeof payload.sub === 'string' ? dir.memberByExternalId(payload.sub) : undefined;
  if (bySubject !== undefined || memberIdClaim === undefined) return bySubject;
  const claimed = payload[memberIdClaim];
  if (typeof claimed !== 'string') return undefined;
  const member = dir.organization.members.get(claimed);
  return member !== undefined && member.externalId === undefined ? member : undefined;
}

class DiscoveryError extends Error {}

/** RFC 8414 metadata first, then OpenID discovery; the document must name the configured issuer (RFC 8414 §3.3). */
async function jwksUri(oauth: OAuthOptions): Promise<string> {
  if (oauth.jwksUri !== undefined) return oauth.jwksUri;
  const issuer = new URL(oauth.issuer);
  const path = issuer.pathname === '/' ? '' : issuer.pathname.replace(/\/$/, '');
  for (const url of [`${issuer.origin}/.well-known/oauth-authorization-server${path}`, `${issuer.origin}${path}/.well-known/openid-configuration`]) {
    try {
      const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5_000) });
      if (!response.ok) {
        await response.body?.cancel();
        continue;
      }
      const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (metadata.issuer === oauth.issuer && typeof metadata.jwks_uri === 'string') return metadata.jwks_uri;
    } catch {
      // The next document, then a DiscoveryError.
    }
  }
  throw new DiscoveryError(`no authorization server metadata naming ${oauth.issuer}`);
}

function tokenProblem(error: unknown): CredentialProblem {
  if (error instanceof DiscoveryError) return 'issuer_unavailable';
  if (error instanceof joseErrors.JWTExpired) return 'token_expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'wrong_issuer';
    if (error.claim === 'aud') return 'wrong_audience';
    if (error.claim === 'nbf' && error.reason === 'check_failed') return 'token_not_yet_valid';
    if (error.claim === 'typ') return 'wrong_type';
    return 'invalid_claims';
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm_not_allowed';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'unknown_signing_key';
  if (error instanceof joseErrors.JWKSTimeout || (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC')) return 'issuer_unavailable';
  return 'malformed';
}

export const PROBLEM_DESCRIPTIONS: Readonly<Record<CredentialProblem, string>> = {
  missing: 'No access token',
  malformed: 'The credential is malformed',
  unknown_api_key: 'Unknown API key',
  secret_expired: 'This API key secret is past its notAfter',
  token_expired: 'The access token has expired',
  token_not_yet_valid: 'The access token is not valid yet',
  wrong_issuer: 'The access token comes from another issuer',
  wrong_audience: 'The access token was issued for another resource',
  wrong_type: 'Not an access token (typ must be at+jwt)',
  algorithm_not_allowed: 'The access token is signed with an algorithm that is not allowed',
  bad_signature: 'The access token signature does not verify',
  unknown_signing_key: 'The access token is signed with a key the issuer does not publish',
  invalid_claims: 'The access token claims are invalid',
  not_a_member: 'The access token subject is not a member of this organization',
  issuer_unavailable: 'The authorization server cannot be reached; try again',
  bad_proxy_proof: 'The front proxy proof does not match',
  ambiguous: 'Send one credential',
};

function refuse(status: 400 | 401 | 503, problem: CredentialProblem): Authentication {
  return { ok: false, status, problem };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
