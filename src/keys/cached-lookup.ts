import { LRUCache } from 'lru-cache';
import { KeyStoreUnavailableError } from './key-store-unavailable.error';
import { LoadEpochs } from './load-epochs';

export interface CachedLookupOptions {
  max: number;
  ttlMs: number;
  /** Most ids remembered as unknown (default 10,000), in a cache of their own: they never evict a known entry. */
  negativeMax?: number;
  /** How long "not found" is remembered. */
  negativeTtlMs: number;
}

/**
 * A bounded LRU in front of a database lookup: hits cost a Map read, misses one
 * query. Unknown ids are remembered briefly in a separate bounded LRU, concurrent
 * lookups of one id share one query (single flight), and an invalidation voids the
 * loads in flight for its id (see LoadEpochs). A failing query rejects with
 * KeyStoreUnavailableError (the request then gets 503), and is not cached.
 */
export class CachedLookup<T extends object> {
  private readonly cache: LRUCache<string, T>;
  private readonly unknown: LRUCache<string, true>;
  private readonly inFlight = new Map<string, Promise<T | null>>();
  private readonly epochs = new LoadEpochs();

  constructor(private readonly options: CachedLookupOptions) {
    // ttlResolution 0: read the clock on each hit. With the default (1 ms) lru-cache
    // caches the time and schedules a timer to forget it, a setTimeout every millisecond
    // on the request path.
    this.cache = new LRUCache({ max: options.max, ttl: Math.max(options.ttlMs, 1), ttlResolution: 0 });
    this.unknown = new LRUCache({
      max: options.negativeMax ?? 10_000,
      ttl: Math.max(options.negativeTtlMs, 1),
      ttlResolution: 0,
    });
  }

  /**
   * The cached answer without a lookup: the value, null for an id remembered as
   * unknown, undefined when the cache does not know. Lets the request path skip the
   * promise of get() on a hit.
   */
  peek(id: string): T | null | undefined {
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit;
    return this.unknown.get(id) ? null : undefined;
  }

  get(id: string, load: () => Promise<T | null>): Promise<T | null> {
    const hit = this.peek(id);
    if (hit !== undefined) return Promise.resolve(hit);
    let flight = this.inFlight.get(id);
    if (!flight) {
      flight = this.load(id, load);
      this.inFlight.set(id, flight);
      const done = () => {
        if (this.inFlight.get(id) === flight) this.inFlight.delete(id);
      };
      flight.then(done, done);
    }
    return flight;
  }

  private async load(id: string, load: () => Promise<T | null>): Promise<T | null> {
    const ticket = this.epochs.start(id);
    let value: T | null;
    try {
      value = await load();
    } catch (error) {
      this.epochs.finish(ticket);
      throw new KeyStoreUnavailableError(error instanceof Error ? error.message : String(error));
    }
    // A load that an invalidation overtook answers its own callers, but is not remembered.
    if (this.epochs.finish(ticket)) {
      if (value === null) this.unknown.set(id, true);
      else this.cache.set(id, value);
    }
    return value;
  }

  set(id: string, value: T): void {
    this.unknown.delete(id);
    this.cache.set(id, value);
  }

  delete(id: string): void {
    this.cache.delete(id);
    this.unknown.delete(id);
    this.inFlight.delete(id);
    this.epochs.invalidate(id);
  }

  clear(): void {
    this.cache.clear();
    this.unknown.clear();
    this.inFlight.clear();
    this.epochs.invalidateAll();
  }
}
