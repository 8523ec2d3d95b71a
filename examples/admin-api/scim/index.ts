/**
 * The SCIM service's face for the server that mounts it: its token table on the store's database, the
 * bootstrap token on the first start, and the request handler (docs/scim.md).
 */
import { createScimHandler, type ScimHandler, type ScimServiceOptions } from './handler.js';
import { HeadMoved, openScimTokens, type ScimTokens } from './tokens.js';

export { createScimHandler, SCIM_BASE_PATH, TOKEN_ROUTE, type ScimHandler, type ScimServiceOptions } from './handler.js';
export { openScimTokens, MIN_SECRET_LENGTH, type ScimToken, type ScimTokens } from './tokens.js';

export interface StartScimOptions extends Omit<ScimServiceOptions, 'tokens'> {
  /** `ORG_POLICY_SCIM_BOOTSTRAP_TOKEN`: a token acting as `bootstrapMember()` if no SCIM token was ever issued. */
  readonly bootstrapToken?: string;
  /** The bootstrap admin: the organization's first active organization admin. */
  readonly bootstrapMember?: () => string | null;
}

export interface Scim {
  readonly handler: ScimHandler;
  readonly tokens: ScimTokens;
  /** Who the bootstrap token acts as, when this start stored it. */
  readonly bootstrapped: { readonly memberId: string } | null;
}

export async function startScim(options: StartScimOptions): Promise<Scim> {
  const { store, follower } = options;
  const tokens = await openScimTokens(store);
  const now = options.now ?? (() => new Date().toISOString());
  let bootstrapped: Scim['bootstrapped'] = null;
  if (options.bootstrapToken !== undefined) {
    for (let attempt = 0; ; attempt++) {
      const head = await store.head();
      await follower.waitFor(head?.revision ?? 0, { timeoutMs: options.waitTimeoutMs ?? 5_000 });
      const memberId = options.bootstrapMember?.() ?? null;
      if (memberId === null) break;
      try {
        if (await tokens.seedBootstrap({ secret: options.bootstrapToken, memberId, now: now(), revision: follower.revision })) bootstrapped = { memberId };
        break;
      } catch (error) {
        if (!(error instanceof HeadMoved) || attempt >= 10) throw error;
      }
    }
  }
  return { handler: createScimHandler({ ...options, tokens }), tokens, bootstrapped };
}
