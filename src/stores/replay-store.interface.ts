/**
 * Remembers which nonces were used. One atomic operation, so that a Redis or SQL
 * implementation is a single statement and two instances can never both win.
 */
export interface ReplayStore {
  /**
   * Claims `nonce` within `scope` for `ttlMs`. Resolves true if it was new (the
   * caller may proceed), false if it was already claimed and not yet expired.
   * Rejects if the store cannot answer; callers then refuse the request. Rejects
   * with a RangeError, storing nothing, unless `ttlMs` is finite and above 0
   * (`assertStoreTtl`): a NaN or infinite TTL must never become "fresh".
   */
  claim(scope: string, nonce: string, ttlMs: number): Promise<boolean>;
  /** Optional, for health checks: resolves when the store answers. */
  ping?(): Promise<void>;
}

/** DI token for the ReplayStore. */
export const REPLAY_STORE = Symbol('KEYPAIR_AUTH_REPLAY_STORE');

/** The store could not answer (full, unreachable): the request is refused with 503. */
export class ReplayStoreUnavailableError extends Error {
  override readonly name = 'ReplayStoreUnavailableError';
}
