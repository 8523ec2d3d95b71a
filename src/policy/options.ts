/**
 * Decision options (SPEC §7.1, §7.10). The core reads no clock: `now` comes from the caller, as epoch
 * milliseconds or an ISO-8601 string with `Z` or an offset, so the host's time zone never changes a decision.
 */
export interface DecisionOptions {
  /** Epoch milliseconds, or ISO-8601 with `Z` or an offset. Judges API-key expiry; members never read it. */
  readonly now?: number | string | undefined;
  /** Narrows connector tools to one product (SPEC §4.1). */
  readonly product?: 'vibe' | 'studio' | undefined;
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** SPEC §7.1: only `options` itself being neither an object nor `undefined`/`null` is malformed. */
export function isMalformedOptions(options: unknown): boolean {
  return options !== undefined && options !== null && typeof options !== 'object';
}

/** The time to judge expiry at, or `undefined` when there is no usable `now`. Never throws. */
export function readNow(options: unknown): number | undefined {
  const now = readOption(options, 'now');
  if (typeof now === 'number') return Number.isFinite(now) ? now : undefined;
  if (typeof now === 'string' && ISO_WITH_OFFSET.test(now)) {
    const ms = Date.parse(now);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

/** Epoch milliseconds of a snapshot's `expiresAt` (always ISO-8601 with an offset once parsed). */
export function parseInstant(iso: string): number {
  return Date.parse(iso);
}

/** Reads one option; a throwing getter or proxy reads as absent (fail closed, never throw). */
export function readOption(options: unknown, key: 'now' | 'product'): unknown {
  if (options === undefined || options === null || typeof options !== 'object') return undefined;
  try {
    return (options as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}
