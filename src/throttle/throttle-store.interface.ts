import { Inject } from '@nestjs/common';

/** What a store answers for one counted failure. */
export interface ThrottleHit {
  /** Failures counted under the key in the current window, this one included. */
  readonly count: number;
  /** Milliseconds until the window ends and the count starts again from zero. */
  readonly resetInMs: number;
}

/**
 * Counts failed authentications per key in fixed windows. One atomic operation, as
 * in @nestjs/throttler's `increment`: the first hit of a window creates the counter
 * with an expiry of `windowMs`, later hits in the window add one. Two instances
 * hitting one key at the same moment must both be counted (Redis: INCR in a script).
 */
export interface ThrottleStore {
  /** Adds one to `key`'s counter and answers the new count. Rejects when the store cannot answer. */
  hit(key: string, windowMs: number): Promise<ThrottleHit>;
}

/** DI token of the ThrottleStore the module uses (the configured one, or the memory store). */
export const THROTTLE_STORE = Symbol('KEYPAIR_AUTH_THROTTLE_STORE');

/** `@InjectThrottleStore()` in a constructor: the module's ThrottleStore (null when throttling is off). */
export const InjectThrottleStore = (): PropertyDecorator & ParameterDecorator => Inject(THROTTLE_STORE);

export function getThrottleStoreToken(): symbol {
  return THROTTLE_STORE;
}
