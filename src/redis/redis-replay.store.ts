import { createHash } from 'node:crypto';
import { ReplayStore, ReplayStoreUnavailableError } from '../stores/replay-store.interface';
import { RedisClient, whenReady } from './redis-connection';

export interface RedisReplayStoreOptions {
  /** Key prefix (default `kpa:nonce:`). */
  prefix?: string;
}

/**
 * Replay store shared by every instance: one `SET key 1 NX PX ttl` per claim, which
 * Redis executes atomically, so of two instances claiming the same nonce at the same
 * moment exactly one gets OK. Any Redis error rejects (the request then gets 503):
 * a nonce is never accepted unchecked.
 */
export class RedisReplayStore implements ReplayStore {
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    options: RedisReplayStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? 'kpa:nonce:';
  }

  async claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    // Hashing bounds the key size whatever the client sent, and keeps scope and nonce apart.
    const key =
      this.prefix + createHash('sha256').update(scope).update('\u0000').update(nonce).digest('base64url');
    try {
      await whenReady(this.redis);
      return (await this.redis.set(key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
    } catch (error) {
      throw new ReplayStoreUnavailableError(
        `redis: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** For health checks: resolves when Redis answers. */
  async ping(): Promise<void> {
    await whenReady(this.redis);
    await this.redis.ping();
  }
}
