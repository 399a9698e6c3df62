import { LRUCache } from 'lru-cache';
import type { ThrottleHit, ThrottleStore } from './throttle-store.interface';
import { assertStoreTtl } from '../stores/store-ttl';

export interface MemoryThrottleStoreOptions {
  /** Most keys counted at once (default 100,000); the least recently hit are forgotten first. */
  maxKeys?: number;
}

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Failure counters in this process: a bounded LRU map, each entry expiring with its
 * window. Synchronous updates, so concurrent hits within the process are all counted.
 * When full, the least recently hit key is forgotten: for a throttle that only means
 * counting again from zero (it fails open), never letting anyone in. Several
 * instances each count on their own: use the Redis store to share the counts.
 */
export class MemoryThrottleStore implements ThrottleStore {
  private readonly windows: LRUCache<string, Window>;

  constructor(options: MemoryThrottleStoreOptions = {}) {
    this.windows = new LRUCache<string, Window>({ max: options.maxKeys ?? 100_000 });
  }

  async hit(key: string, windowMs: number, now = Date.now()): Promise<ThrottleHit> {
    assertStoreTtl(windowMs, 'windowMs');
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return { count: window.count, resetInMs: window.resetAt - now };
  }

  /** Keys currently counted (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }
}
