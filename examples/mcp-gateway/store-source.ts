/**
 * The fleet's source: the organization's change log in `@org-policy/store`, followed live. Every
 * change an admin commits reaches this gateway without a restart or a file; each one hands the policy
 * before and after to the gateway, which tells exactly the sessions whose tool list it changed.
 */
import { isStoreError, openStore, type Follower, type Store } from '@org-policy/store';
import type { Policy } from 'org-policy';
import type { PolicySource } from './source.js';

export interface StoreSourceOptions {
  readonly organizationId: string;
  /** A PostgreSQL server (`postgres://…`), as `DATABASE_URL` gives it. */
  readonly url?: string;
  /** A store this process already opened (PGlite is single-process: the writer and its followers share it); not closed here. */
  readonly store?: Store;
  /** The follower's catch-up period, bounding how late a change with a lost notification arrives (the store's default when absent). */
  readonly pollIntervalMs?: number;
  /** How long to wait for the organization to be seeded (by the Admin API) before giving up (default 30 s). */
  readonly waitForSeedMs?: number;
}

export async function storeSource(options: StoreSourceOptions): Promise<PolicySource> {
  const store = options.store ?? (await openStore({ organizationId: options.organizationId, ...(options.url === undefined ? {} : { url: options.url }), applicationName: 'org-policy-mcp-gateway' }));
  const follower = await followWhenSeeded(store, options);
  const listeners: ((previous: Policy, next: Policy) => void)[] = [];
  const changed = ({ previousPolicy, policy }: { previousPolicy: Policy; policy: Policy }) => {
    for (const listener of listeners) listener(previousPolicy, policy);
  };
  follower.on('change', changed);
  follower.on('reload', changed);

  return {
    get policy() {
      return follower.policy;
    },
    onChange: (listener) => void listeners.push(listener),
    health: async () => ({ revision: follower.revision, lagMs: (await follower.lag()).lagMs }),
    close: async () => {
      await follower.close();
      if (options.store === undefined) await store.close();
    },
  };
}

async function followWhenSeeded(store: Store, options: StoreSourceOptions): Promise<Follower> {
  const deadline = Date.now() + (options.waitForSeedMs ?? 30_000);
  for (;;) {
    try {
      return await store.follow(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs });
    } catch (error) {
      if (!isStoreError(error) || error.code !== 'not_initialized' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
