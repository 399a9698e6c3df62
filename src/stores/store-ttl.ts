/**
 * Throws a RangeError unless `ttlMs` is a finite number of milliseconds above zero. Every
 * store calls it before it writes: a NaN (a time parsed from an invalid date), an Infinity
 * or a negative TTL would store an entry that never expires, or one forgotten at once (a
 * nonce claimable again), and must never answer "fresh". The error is not a store outage:
 * callers treat it as any unexpected error and refuse (401 AUTHENTICATION_FAILED, logged).
 */
export function assertStoreTtl(ttlMs: number, what = 'ttlMs'): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(
      `${what} must be a finite number of milliseconds above 0, got ${String(ttlMs)}: ` +
        'the caller computed it from an invalid or missing time, and must refuse the request',
    );
  }
}
