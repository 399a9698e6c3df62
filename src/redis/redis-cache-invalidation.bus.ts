import type { CacheInvalidation, CacheInvalidationBus } from '../keys/cache-invalidation.interface';
import { RedisClient, whenReady } from './redis-connection';

const MAX_MESSAGE = 4096;

/**
 * Key-cache invalidation across instances over Redis pub/sub: a revocation on one
 * instance reaches the others' caches within a round trip. Subscribing needs a
 * connection of its own (`redis.duplicate()`). Messages are best effort; while the
 * subscription is down, the cache TTL bounds how long a stale entry can live.
 */
export class RedisCacheInvalidationBus implements CacheInvalidationBus {
  private subscriber: RedisClient | undefined;
  private readonly handlers: ((event: CacheInvalidation) => void)[] = [];

  constructor(
    private readonly redis: RedisClient,
    private readonly channel = 'kpa:cache-invalidation',
  ) {}

  async publish(event: CacheInvalidation): Promise<void> {
    await whenReady(this.redis);
    await this.redis.publish(this.channel, JSON.stringify(event));
  }

  async subscribe(handler: (event: CacheInvalidation) => void): Promise<void> {
    this.handlers.push(handler);
    if (this.subscriber) return; // one connection serves every handler
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    // (Re)subscribe whenever the connection is ready: also when Redis was down at startup.
    subscriber.on('ready', () => void subscriber.subscribe(this.channel).catch(() => undefined));
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel || message.length > MAX_MESSAGE) return;
      const event = parse(message);
      if (event) for (const h of this.handlers) h(event);
    });
    await subscriber.subscribe(this.channel).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }
}

function parse(message: string): CacheInvalidation | undefined {
  try {
    const value = JSON.parse(message) as Partial<{ kind: string; ids: unknown; userId: unknown }>;
    if (value.kind === 'key' && Array.isArray(value.ids) && value.ids.every((i) => typeof i === 'string')) {
      return { kind: 'key', ids: value.ids as string[] };
    }
    if (value.kind === 'user' && typeof value.userId === 'string')
      return { kind: 'user', userId: value.userId };
  } catch {
    // not ours
  }
  return undefined;
}
