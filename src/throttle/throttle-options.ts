import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import type { ThrottleStore } from './throttle-store.interface';

/** What failures are counted by: the client's address, the key id the request claims, or both. */
export type ThrottleDimension = 'address' | 'keyId';

/** The `throttle` block of KeypairAuthModule.forRoot(). Throttling is off without it. */
export interface ThrottleOptions {
  /** Failed authentications (401s) allowed per address and per claimed key id in one window (default 20; 1 to 100,000). */
  maxFailures?: number;
  /** Length of the counting window, and so the longest a client waits, in seconds (default 60; 1 to 86,400). */
  windowSeconds?: number;
  /** Where the counts live (default MemoryThrottleStore; RedisThrottleStore shares them between instances). */
  store?: ThrottleStore;
  /** What to count by (default both). Behind a proxy without `clientAddress`, count by `keyId` only. */
  by?: ThrottleDimension[];
  /**
   * The client's address from the framework request (Express or Fastify), for apps
   * behind a proxy they trust (e.g. `(req) => (req as Request).ip` with Express's
   * `trust proxy`). Default: the TCP peer, `socket.remoteAddress`.
   */
  clientAddress?: (request: unknown) => string | undefined;
}

export interface ResolvedThrottleOptions {
  maxFailures: number;
  windowMs: number;
  /** The configured store, or undefined for a MemoryThrottleStore. */
  store?: ThrottleStore;
  byAddress: boolean;
  byKeyId: boolean;
  clientAddress?: (request: unknown) => string | undefined;
}

export const THROTTLE_DEFAULTS = { maxFailures: 20, windowSeconds: 60 } as const;

const KNOWN = ['maxFailures', 'windowSeconds', 'store', 'by', 'clientAddress'];

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw ConfigError.create(
      `${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)}).`,
      `Set it within that range, or leave it out for the default of ${fallback}.`,
    );
  }
  return value;
}

/** Validates the `throttle` block; null when it is absent (throttling off). */
export function validateThrottleOptions(raw: ThrottleOptions | undefined): ResolvedThrottleOptions | null {
  if (raw === undefined) return null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw ConfigError.create(
      'throttle must be an object.',
      'Pass throttle: {} for the defaults (20 failures per 60 s), or leave it out to turn throttling off.',
    );
  }
  for (const key of Object.keys(raw)) {
    if (!KNOWN.includes(key)) {
      throw ConfigError.create(`unknown option throttle.${key}.`, `Known options: ${KNOWN.join(', ')}.`);
    }
  }
  if (raw.store !== undefined && typeof (raw.store as Partial<ThrottleStore> | null)?.hit !== 'function') {
    throw ConfigError.create(
      'throttle.store must implement hit(key, windowMs).',
      'Pass a MemoryThrottleStore, a RedisThrottleStore from nestjs-keypair-auth/redis, or leave it out.',
    );
  }
  const by = raw.by ?? ['address', 'keyId'];
  if (
    !Array.isArray(by) ||
    by.length === 0 ||
    by.some((d) => d !== 'address' && d !== 'keyId') ||
    new Set(by).size !== by.length
  ) {
    throw ConfigError.create(
      `throttle.by must list 'address' and/or 'keyId' (got ${JSON.stringify(raw.by)}).`,
      "Use ['address', 'keyId'] (the default), ['address'] or ['keyId'].",
    );
  }
  if (raw.clientAddress !== undefined && typeof raw.clientAddress !== 'function') {
    throw ConfigError.create(
      'throttle.clientAddress must be a function (request) => string | undefined.',
      'Pass a function, or leave it out to count by the TCP peer address.',
    );
  }
  return {
    maxFailures: integer('throttle.maxFailures', raw.maxFailures, THROTTLE_DEFAULTS.maxFailures, 1, 100_000),
    windowMs:
      1000 * integer('throttle.windowSeconds', raw.windowSeconds, THROTTLE_DEFAULTS.windowSeconds, 1, 86_400),
    store: raw.store,
    byAddress: by.includes('address'),
    byKeyId: by.includes('keyId'),
    clientAddress: raw.clientAddress,
  };
}
