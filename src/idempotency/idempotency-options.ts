import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import type { IdempotencyStore } from './idempotency-store.interface';

/** The `idempotency` block of KeypairAuthModule.forRoot(). */
export interface IdempotencyOptions {
  /**
   * Where records live. Default: a TypeOrmIdempotencyStore on the key tables' DataSource
   * (shared by every instance using that database; needed by TypeOrmIdempotentEndpoint).
   */
  store?: IdempotencyStore;
  /** How long a completed request's response is replayed, in seconds (default 86,400 = 24 h; 60 to 30 days). */
  retentionSeconds?: number;
  /**
   * How long an attempt holds a key without a sign of life, in seconds (default 30; 1 to 3600).
   * A running handler extends it every third of that; a crashed one frees the key after it.
   */
  lockTtlSeconds?: number;
  /** Longest accepted Idempotency-Key, in characters (default 255; 16 to 1024). */
  maxKeyLength?: number;
  /** Largest response body kept for replay, in bytes (default 1 MiB; up to 16 MiB). */
  maxResponseBytes?: number;
}

/** Per-route settings of @Idempotent(). */
export interface IdempotentRouteOptions {
  /** Refuse requests without an Idempotency-Key with 400 (default true); false runs them without the guarantee. */
  required?: boolean;
  /** Overrides `idempotency.lockTtlSeconds` for this route. */
  lockTtlSeconds?: number;
  /** Overrides `idempotency.retentionSeconds` for this route. */
  retentionSeconds?: number;
}

export interface ResolvedIdempotencyOptions {
  /** The configured store, or undefined for the default TypeOrmIdempotencyStore. */
  store?: IdempotencyStore;
  retentionMs: number;
  lockTtlMs: number;
  maxKeyLength: number;
  maxResponseBytes: number;
}

export interface ResolvedIdempotentRouteOptions {
  required: boolean;
  lockTtlMs?: number;
  retentionMs?: number;
}

export const IDEMPOTENCY_DEFAULTS = {
  retentionSeconds: 86_400,
  lockTtlSeconds: 30,
  maxKeyLength: 255,
  maxResponseBytes: 1024 * 1024,
} as const;

const RETENTION_RANGE = [60, 30 * 86_400] as const;
const LOCK_RANGE = [1, 3600] as const;
const STORE_METHODS = ['acquire', 'complete', 'release', 'extend', 'checkpoint'] as const;

function number(
  name: string,
  value: unknown,
  fallback: number,
  [min, max]: readonly [number, number],
  unit: string,
) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw ConfigError.create(
      `${name} must be a number from ${min} to ${max} ${unit} (got ${JSON.stringify(value)}).`,
      `Set it within that range, or leave it out for the default of ${fallback}.`,
    );
  }
  return value;
}

function checkKeys(where: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw ConfigError.create(`unknown option ${where}${key}.`, `Known options: ${known.join(', ')}.`);
    }
  }
}

/** Validates the `idempotency` option block once, at startup, filling the defaults. */
export function validateIdempotencyOptions(raw: IdempotencyOptions | undefined): ResolvedIdempotencyOptions {
  const options = raw ?? {};
  if (typeof options !== 'object' || options === null) {
    throw ConfigError.create(
      'idempotency must be an object.',
      'Pass idempotency: { lockTtlSeconds, ... } or leave it out.',
    );
  }
  checkKeys('idempotency.', options, [
    'store',
    'retentionSeconds',
    'lockTtlSeconds',
    'maxKeyLength',
    'maxResponseBytes',
  ]);
  const store = options.store;
  if (
    store !== undefined &&
    STORE_METHODS.some((m) => typeof (store as unknown as Record<string, unknown>)?.[m] !== 'function')
  ) {
    throw ConfigError.create(
      `idempotency.store must implement ${STORE_METHODS.join(', ')}.`,
      'Pass a MemoryIdempotencyStore, TypeOrmIdempotencyStore or RedisIdempotencyStore, or leave it out for the TypeORM store.',
    );
  }
  const d = IDEMPOTENCY_DEFAULTS;
  const retention = number(
    'idempotency.retentionSeconds',
    options.retentionSeconds,
    d.retentionSeconds,
    RETENTION_RANGE,
    'seconds',
  );
  const lockTtl = number(
    'idempotency.lockTtlSeconds',
    options.lockTtlSeconds,
    d.lockTtlSeconds,
    LOCK_RANGE,
    'seconds',
  );
  if (lockTtl >= retention) {
    throw ConfigError.create(
      `idempotency.lockTtlSeconds (${lockTtl}) must be shorter than idempotency.retentionSeconds (${retention}).`,
      'A record must outlive the lock that protects it: lower the lock TTL or raise the retention.',
    );
  }
  return {
    store,
    retentionMs: 1000 * retention,
    lockTtlMs: 1000 * lockTtl,
    maxKeyLength: number(
      'idempotency.maxKeyLength',
      options.maxKeyLength,
      d.maxKeyLength,
      [16, 1024],
      'characters',
    ),
    maxResponseBytes: number(
      'idempotency.maxResponseBytes',
      options.maxResponseBytes,
      d.maxResponseBytes,
      [0, 16 * 1024 * 1024],
      'bytes',
    ),
  };
}

/** Validates @Idempotent() options when the decorator is applied (class definition time). */
export function validateIdempotentRouteOptions(
  raw: IdempotentRouteOptions = {},
): ResolvedIdempotentRouteOptions {
  checkKeys('@Idempotent() ', raw, ['required', 'lockTtlSeconds', 'retentionSeconds']);
  if (raw.required !== undefined && typeof raw.required !== 'boolean') {
    throw ConfigError.create('@Idempotent() required must be true or false.', 'Pass a boolean.');
  }
  const lockTtl =
    raw.lockTtlSeconds === undefined
      ? undefined
      : number('@Idempotent() lockTtlSeconds', raw.lockTtlSeconds, 0, LOCK_RANGE, 'seconds');
  const retention =
    raw.retentionSeconds === undefined
      ? undefined
      : number('@Idempotent() retentionSeconds', raw.retentionSeconds, 0, RETENTION_RANGE, 'seconds');
  if (lockTtl !== undefined && retention !== undefined && lockTtl >= retention) {
    throw ConfigError.create(
      `@Idempotent() lockTtlSeconds (${lockTtl}) must be shorter than retentionSeconds (${retention}).`,
      'Lower the lock TTL or raise the retention.',
    );
  }
  return {
    required: raw.required ?? true,
    lockTtlMs: lockTtl === undefined ? undefined : 1000 * lockTtl,
    retentionMs: retention === undefined ? undefined : 1000 * retention,
  };
}
