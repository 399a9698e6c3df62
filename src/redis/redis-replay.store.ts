import { hash } from 'node:crypto';
import { ReplayStore, ReplayStoreUnavailableError } from '../stores/replay-store.interface';
import { assertStoreTtl } from '../stores/store-ttl';
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

  claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    try {
      assertStoreTtl(ttlMs);
    } catch (error) {
      return Promise.reject(error);
    }
    // Hashing bounds the key size whatever the client sent, and keeps scope and nonce apart.
    const key = this.prefix + hash('sha256', `${scope}\u0000${nonce}`, 'base64url');
    const px = Math.max(1, Math.ceil(ttlMs));
    const send = () => this.redis.set(key, '1', 'PX', px, 'NX');
    let reply: Promise<string | null>;
    try {
      // Connected (the usual case): the command goes out now, without waiting a tick for whenReady.
      reply = this.redis.status === 'ready' ? send() : whenReady(this.redis).then(send);
    } catch (error) {
      reply = Promise.reject(error);
    }
    return reply.then((answer) => answer === 'OK', unavailable);
  }

  /** For health checks: resolves when Redis answers. */
  async ping(): Promise<void> {
    await whenReady(this.redis);
    await this.redis.ping();
  }
}

/** Any Redis error is a store outage (503): never a pass, never a 500. */
function unavailable(error: unknown): never {
  throw new ReplayStoreUnavailableError(`redis: ${error instanceof Error ? error.message : String(error)}`);
}
