import { LRUCache } from 'lru-cache';
import { KeyStoreUnavailableError } from './key-store-unavailable.error';

const UNKNOWN = Symbol('unknown');

export interface CachedLookupOptions {
  max: number;
  ttlMs: number;
  /** How long "not found" is remembered, so a flood of unknown ids cannot become a flood of queries. */
  negativeTtlMs: number;
}

/**
 * A bounded LRU in front of a database lookup: hits cost a Map read, misses one
 * query, and unknown ids are remembered briefly. A failing query rejects with
 * KeyStoreUnavailableError (the request then gets 503), and is not cached.
 */
export class CachedLookup<T extends object> {
  private readonly cache: LRUCache<string, T | typeof UNKNOWN>;

  constructor(private readonly options: CachedLookupOptions) {
    // ttlResolution 0: read the clock on each hit. With the default (1 ms) lru-cache
    // caches the time and schedules a timer to forget it, a setTimeout every millisecond
    // on the request path.
    this.cache = new LRUCache({ max: options.max, ttl: Math.max(options.ttlMs, 1), ttlResolution: 0 });
  }

  /**
   * The cached answer without a lookup: the value, null for an id remembered as
   * unknown, undefined when the cache does not know. Lets the request path skip the
   * promise of get() on a hit.
   */
  peek(id: string): T | null | undefined {
    const hit = this.cache.get(id);
    return hit === UNKNOWN ? null : hit;
  }

  async get(id: string, load: () => Promise<T | null>): Promise<T | null> {
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit === UNKNOWN ? null : hit;
    let value: T | null;
    try {
      value = await load();
    } catch (error) {
      throw new KeyStoreUnavailableError(error instanceof Error ? error.message : String(error));
    }
    if (value === null) this.cache.set(id, UNKNOWN, { ttl: Math.max(this.options.negativeTtlMs, 1) });
    else this.cache.set(id, value);
    return value;
  }

  set(id: string, value: T): void {
    this.cache.set(id, value);
  }

  delete(id: string): void {
    this.cache.delete(id);
  }

  clear(): void {
    this.cache.clear();
  }
}
