import { createHash } from 'node:crypto';
import type { ThrottleHit, ThrottleStore } from '../throttle/throttle-store.interface';
import { RedisClient, whenReady } from './redis-connection';
import { assertStoreTtl } from '../stores/store-ttl';

export interface RedisThrottleStoreOptions {
  /** Key prefix (default `kpa:throttle:`). */
  prefix?: string;
}

// INCR, and PEXPIRE on the first hit of a window, in one script: atomic on the server,
// one key per script (Redis Cluster works). A counter found without an expiry (never
// left by this script, but possible if someone else wrote the key) gets one, so it
// cannot block a client for ever.
const HIT = `local c = redis.call('INCR', KEYS[1])
local w = tonumber(ARGV[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], w) return {c, w} end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then redis.call('PEXPIRE', KEYS[1], w) t = w end
return {c, t}`;
const HIT_SHA1 = createHash('sha1').update(HIT).digest('hex');

/**
 * Failure counters shared by every instance: one Lua script per hit (`INCR`, then
 * `PEXPIRE` when the window starts), so hits from two instances at the same moment
 * are both counted. Keys are the prefix plus what the throttle passes (an address or
 * a SHA-256), so their size is bounded whatever a client sends.
 *
 * Any Redis error rejects; the throttle then fails open (it does not count) and logs
 * it: a throttle outage never lets a request in that would otherwise fail, and never
 * keeps one out that would otherwise pass.
 *
 *     import { createRedisClient, RedisThrottleStore } from 'nestjs-keypair-auth/redis';
 *     KeypairAuthModule.forRoot({ throttle: { store: new RedisThrottleStore(createRedisClient(url)) } })
 */
export class RedisThrottleStore implements ThrottleStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    options: RedisThrottleStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'kpa:throttle:';
  }

  async hit(key: string, windowMs: number): Promise<ThrottleHit> {
    assertStoreTtl(windowMs, 'windowMs');
    const redisKey = this.prefix + key;
    const window = Math.max(1, Math.ceil(windowMs));
    await whenReady(this.redis);
    let answer: unknown;
    try {
      answer = await this.redis.evalsha(HIT_SHA1, 1, redisKey, window);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      answer = await this.redis.eval(HIT, 1, redisKey, window);
    }
    const [count, ttl] = answer as [number, number];
    return { count: Number(count), resetInMs: Math.max(0, Number(ttl)) };
  }

  /** For health checks: resolves when Redis answers. */
  async ping(): Promise<void> {
    await whenReady(this.redis);
    await this.redis.ping();
  }
}
