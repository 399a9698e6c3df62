import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { requireOptionalPeer } from '../peer-dependencies';

/** An ioredis client: a plain connection, a Sentinel-managed one, or a Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * Options that make a Redis outage fail fast instead of hanging requests: no offline
 * queue (commands fail at once while disconnected), one retry, and a command
 * timeout. Reconnection stays automatic, so service returns by itself.
 */
export const FAIL_FAST_REDIS_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 1000,
  connectTimeout: 2000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
};

/**
 * A client from a URL (`redis://…`, `rediss://…`) with the fail-fast options.
 * For Sentinel or Cluster, build the ioredis client yourself (`new Redis({ sentinels,
 * name, ...FAIL_FAST_REDIS_OPTIONS })`, `new Cluster(nodes, { redisOptions: FAIL_FAST_REDIS_OPTIONS })`)
 * and pass it to the stores: every option passes straight through to ioredis.
 */
export function createRedisClient(url: string, options: RedisOptions = {}): Redis {
  // Loaded lazily so the core never needs ioredis installed (an optional peer dependency).
  const { Redis: RedisCtor } = requireOptionalPeer<typeof import('ioredis')>(
    'ioredis',
    'for its Redis stores (nestjs-keypair-auth/redis)',
  );
  const client = new RedisCtor(url, { ...FAIL_FAST_REDIS_OPTIONS, ...options });
  client.on('error', () => undefined); // reported through failed commands; avoid unhandled 'error' events
  return client;
}

/**
 * Resolves once the client is connected, waiting at most `ms` (startup, or a
 * reconnect in progress). Rejects after that: callers fail closed rather than queue.
 */
export function whenReady(redis: RedisClient, ms = 1000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  if (redis.status === 'end') return Promise.reject(new Error('connection closed'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`not connected within ${ms} ms (status ${redis.status})`));
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
