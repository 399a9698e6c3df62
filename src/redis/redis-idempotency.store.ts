import { createHash } from 'node:crypto';
import {
  idempotencyRecordId,
  IdempotencyAcquireRequest,
  IdempotencyAcquireResult,
  IdempotencyLockRef,
  IdempotencyStore,
  IdempotencyStoreUnavailableError,
  StoredResponse,
} from '../idempotency/idempotency-store.interface';
import type { RedisClient } from './redis-connection';
import { assertStoreTtl } from '../stores/store-ttl';

export interface RedisIdempotencyStoreOptions {
  /** Prefix of the record keys (default `kpa:idem:`). */
  prefix?: string;
}

// One hash per record: fp (fingerprint), st ('p' in progress | 'c' completed), ow (owner),
// lu (locked until, ms), rs (stored response JSON), rc (recovery point). The key's own
// expiry is the retention. Times come from the Redis server clock (TIME), one clock for
// every instance. Each script is one atomic step.
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const ACQUIRE = `${NOW}
local k = KEYS[1]
local fp, owner, ttl, retention = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if retention < ttl then retention = ttl end
if redis.call('EXISTS', k) == 0 then
  redis.call('HSET', k, 'fp', fp, 'st', 'p', 'ow', owner, 'lu', now + ttl)
  redis.call('PEXPIRE', k, retention)
  return {'acquired', ''}
end
local r = redis.call('HMGET', k, 'fp', 'st', 'ow', 'lu', 'rs', 'rc')
if r[1] ~= fp then return {'fingerprint-mismatch', ''} end
if r[2] == 'c' then return {'completed', r[5] or ''} end
local lu = tonumber(r[4] or '0')
if r[3] and lu > now then return {'in-progress', tostring(lu - now)} end
redis.call('HSET', k, 'ow', owner, 'lu', now + ttl)
redis.call('PEXPIRE', k, retention)
if r[6] then return {'acquired', r[6], '1'} end
return {'acquired', ''}`;

const OWNED = `local r = redis.call('HMGET', KEYS[1], 'st', 'ow')
if r[1] ~= 'p' or r[2] ~= ARGV[1] then return 0 end`;

const COMPLETE = `${OWNED}
redis.call('HSET', KEYS[1], 'st', 'c', 'rs', ARGV[2])
redis.call('HDEL', KEYS[1], 'ow', 'lu', 'rc')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;

const RELEASE = `${OWNED}
redis.call('HDEL', KEYS[1], 'ow')
redis.call('HSET', KEYS[1], 'lu', 0)
return 1`;

const EXTEND = `${OWNED}
${NOW}
local ttl = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'lu', now + ttl)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`;

const CHECKPOINT = `${OWNED}
redis.call('HSET', KEYS[1], 'rc', ARGV[2])
return 1`;

/**
 * Idempotency records in Redis, one hash per key, every operation one Lua script
 * (atomic on the server; one key per script, so Redis Cluster works too). For apps
 * that keep state outside one SQL database; it cannot join a TypeORM transaction,
 * so TypeOrmIdempotentEndpoint refuses it.
 *
 *     import { createRedisClient, RedisIdempotencyStore } from 'nestjs-keypair-auth/redis';
 *     KeypairAuthModule.forRoot({ idempotency: { store: new RedisIdempotencyStore(createRedisClient(url)) } })
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    options: RedisIdempotencyStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'kpa:idem:';
  }

  async acquire(request: IdempotencyAcquireRequest): Promise<IdempotencyAcquireResult> {
    assertStoreTtl(request.lockTtlMs, 'lockTtlMs');
    assertStoreTtl(request.retentionMs, 'retentionMs');
    const [outcome, value, hasRecovery] = (await this.script(ACQUIRE, request, [
      request.fingerprint,
      request.owner,
      Math.ceil(request.lockTtlMs),
      Math.ceil(request.retentionMs),
    ])) as [string, string, string?];
    switch (outcome) {
      case 'acquired':
        return { outcome, recoveryPoint: hasRecovery ? value : null };
      case 'in-progress':
        return { outcome, retryAfterMs: Number(value) };
      case 'completed':
        return { outcome, response: JSON.parse(value) as StoredResponse };
      case 'fingerprint-mismatch':
        return { outcome };
      default:
        throw new IdempotencyStoreUnavailableError(
          `unexpected answer from the acquire script: ${String(outcome)}`,
        );
    }
  }

  async complete(
    lock: IdempotencyLockRef,
    response: StoredResponse,
    retentionMs: number,
    transaction?: unknown,
  ): Promise<boolean> {
    assertStoreTtl(retentionMs, 'retentionMs');
    if (transaction) {
      throw new Error(
        'RedisIdempotencyStore cannot join a database transaction; use TypeOrmIdempotencyStore.',
      );
    }
    return (
      (await this.script(COMPLETE, lock, [lock.owner, JSON.stringify(response), Math.ceil(retentionMs)])) ===
      1
    );
  }

  async release(lock: IdempotencyLockRef): Promise<boolean> {
    return (await this.script(RELEASE, lock, [lock.owner])) === 1;
  }

  async extend(lock: IdempotencyLockRef, lockTtlMs: number, transaction?: unknown): Promise<boolean> {
    assertStoreTtl(lockTtlMs, 'lockTtlMs');
    if (transaction) {
      throw new Error(
        'RedisIdempotencyStore cannot join a database transaction; use TypeOrmIdempotencyStore.',
      );
    }
    return (await this.script(EXTEND, lock, [lock.owner, Math.ceil(lockTtlMs)])) === 1;
  }

  async checkpoint(lock: IdempotencyLockRef, recoveryPoint: string): Promise<boolean> {
    return (await this.script(CHECKPOINT, lock, [lock.owner, recoveryPoint])) === 1;
  }

  /** For health checks: resolves when Redis answers. */
  async ping(): Promise<void> {
    await this.redis.ping();
  }

  /** EVALSHA, loading the script on NOSCRIPT; failures become IdempotencyStoreUnavailableError. */
  private async script(
    source: string,
    ref: Pick<IdempotencyLockRef, 'scope' | 'key'>,
    args: (string | number)[],
  ): Promise<unknown> {
    const key = this.prefix + idempotencyRecordId(ref.scope, ref.key);
    try {
      try {
        return await this.redis.evalsha(sha1(source), 1, key, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return await this.redis.eval(source, 1, key, ...args);
      }
    } catch (error) {
      throw new IdempotencyStoreUnavailableError(error instanceof Error ? error.message : String(error));
    }
  }
}

const sha1Cache = new Map<string, string>();
function sha1(source: string): string {
  let digest = sha1Cache.get(source);
  if (!digest) {
    digest = createHash('sha1').update(source).digest('hex');
    sha1Cache.set(source, digest);
  }
  return digest;
}
