import type { IdempotencyOptions } from '../../src';

export interface TransfersOptions {
  /** Honour `X-Demo-Fault` (tests only; DEMO_FAULT_INJECTION=1). Default false. */
  faultInjection?: boolean;
}

export const TRANSFERS_OPTIONS = Symbol('DEMO_TRANSFERS_OPTIONS');

/** The demo's settings from the environment (DEMO_FAULT_INJECTION). */
export function transfersOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): TransfersOptions {
  return { faultInjection: env.DEMO_FAULT_INJECTION === '1' };
}

/** The demo's `idempotency` option block: IDEMPOTENCY_LOCK_TTL_SECONDS overrides the lock TTL (default 30). */
export function demoIdempotencyOptions(env: NodeJS.ProcessEnv = process.env): IdempotencyOptions {
  const ttl = env.IDEMPOTENCY_LOCK_TTL_SECONDS?.trim();
  if (ttl === undefined || ttl === '') return {};
  // Only plain decimal numbers: Number('0x10') or Number('1e3') would be read as a number of seconds.
  return { lockTtlSeconds: /^\d+(\.\d+)?$/.test(ttl) ? Number(ttl) : NaN };
}
