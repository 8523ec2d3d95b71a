/** What `bench/scim.ts` and its child processes share. */
export type ScimChildRole =
  | { readonly role: 'server'; readonly databaseUrl?: string; readonly dataDir?: string; readonly adminKey: string; readonly scimToken: string }
  | { readonly role: 'follower'; readonly databaseUrl: string; readonly organizationId: string; readonly name: string };

export type ScimChildMessage =
  | { readonly type: 'ready'; readonly url: string; readonly revision: number }
  /** [revision, wall-clock ms when this follower applied it] */
  | { readonly type: 'applied'; readonly revisions: [number, number][] }
  /** follower.lag() every 100 ms: [lagMs, revisionsBehind] */
  | { readonly type: 'lags'; readonly lags: [number, number][]; readonly revision: number };
