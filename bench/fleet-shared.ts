/** What `bench/fleet.ts` and its child processes share. */
export type FromChild =
  | { readonly type: 'ready' }
  | { readonly type: 'applied'; readonly revisions: [number, number][] }
  | { readonly type: 'done'; readonly latencies: number[]; readonly commits: [number, number][]; readonly start: number; readonly end: number }
  | { readonly type: 'cold'; readonly followMs: number; readonly parseBuildMs: number; readonly memoryBytes: number };

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

