import { createHash } from 'node:crypto';
import { haveService, REDIS_URL } from '../../test/setup/services';
import type { CacheInvalidation } from '../keys/cache-invalidation.interface';
import { replayStoreContract } from '../testing';
import { ReplayStoreUnavailableError } from '../stores/replay-store.interface';
import { RedisCacheInvalidationBus } from './redis-cache-invalidation.bus';
import { createRedisClient } from './redis-connection';
import { RedisReplayStore } from './redis-replay.store';

const describeIfRedis = haveService('redis') ? describe : describe.skip;
if (!haveService('redis')) console.warn('SKIPPING Redis store tests: no Redis at 127.0.0.1:6379');

if (haveService('redis')) {
  replayStoreContract('Redis', async () => {
    const redis = createRedisClient(REDIS_URL);
    return {
      store: new RedisReplayStore(redis, { prefix: `kpa-test:${Date.now()}:` }),
      close: async () => void redis.disconnect(),
    };
  });
}

describeIfRedis('RedisReplayStore', () => {
  it('keeps keys bounded in size and sets their expiry', async () => {
    const redis = createRedisClient(REDIS_URL);
    const prefix = `kpa-test:ttl:${Date.now()}:`;
    const store = new RedisReplayStore(redis, { prefix });
    await store.claim('scope', 'n'.repeat(10_000), 5000);
    const key =
      prefix +
      createHash('sha256').update('scope').update('\u0000').update('n'.repeat(10_000)).digest('base64url');
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
    redis.disconnect();
  });

  it('rejects, fast, when Redis cannot be reached', async () => {
    const redis = createRedisClient('redis://127.0.0.1:1', { retryStrategy: () => null });
    const store = new RedisReplayStore(redis);
    const started = Date.now();
    await expect(store.claim('s', 'n', 1000)).rejects.toBeInstanceOf(ReplayStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(3000);
    redis.disconnect();
  });
});

describeIfRedis('RedisCacheInvalidationBus', () => {
  it('delivers an event published by one instance to another', async () => {
    const channel = `kpa-test:bus:${Date.now()}`;
    const aRedis = createRedisClient(REDIS_URL);
    const a = new RedisCacheInvalidationBus(aRedis, channel);
    const bRedis = createRedisClient(REDIS_URL);
    const b = new RedisCacheInvalidationBus(bRedis, channel);
    const received: CacheInvalidation[] = [];
    await b.subscribe((e) => received.push(e));
    await new Promise((r) => setTimeout(r, 100));
    await a.publish({ kind: 'key', ids: ['k1', 'abc'] });
    await a.publish({ kind: 'user', userId: 'u1' });
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toEqual([
      { kind: 'key', ids: ['k1', 'abc'] },
      { kind: 'user', userId: 'u1' },
    ]);
    await a.close();
    await b.close();
    aRedis.disconnect();
    bRedis.disconnect();
  });

  it('ignores foreign or malformed messages', async () => {
    const channel = `kpa-test:bus2:${Date.now()}`;
    const redis = createRedisClient(REDIS_URL);
    const bus = new RedisCacheInvalidationBus(redis, channel);
    const received: CacheInvalidation[] = [];
    await bus.subscribe((e) => received.push(e));
    await new Promise((r) => setTimeout(r, 100));
    for (const m of ['not json', '{"kind":"key","ids":[1]}', '{"kind":"drop"}', 'x'.repeat(10_000)])
      await redis.publish(channel, m);
    await new Promise((r) => setTimeout(r, 200));
    expect(received).toEqual([]);
    await bus.close();
    redis.disconnect();
  });
});

describe('RedisReplayStore, whatever the client does', () => {
  it('turns a synchronous throw of the client into ReplayStoreUnavailableError', async () => {
    // A client that throws instead of rejecting (a Cluster with no slots, a misconfigured
    // wrapper): the claim must still fail closed as an outage, never escape as a 500.
    const client = {
      status: 'ready',
      set: () => {
        throw new Error('no slots');
      },
    };
    const store = new RedisReplayStore(client as never);
    await expect(store.claim('s', 'n', 1000)).rejects.toThrow(ReplayStoreUnavailableError);
    await expect(store.claim('s', 'n', 1000)).rejects.toThrow('redis: no slots');
  });

  it('answers false, not an error, when the nonce was already claimed', async () => {
    const client = { status: 'ready', set: () => Promise.resolve(null) };
    await expect(new RedisReplayStore(client as never).claim('s', 'n', 1000)).resolves.toBe(false);
  });
});
