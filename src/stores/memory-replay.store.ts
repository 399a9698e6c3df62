import { ReplayStore, ReplayStoreUnavailableError } from './replay-store.interface';

export interface MemoryReplayStoreOptions {
  /** Most nonces held at once (default 1,000,000). When full of unexpired nonces, claims fail closed. */
  maxEntries?: number;
  /** How often expired nonces are swept (default 30 s). */
  sweepIntervalMs?: number;
}

/**
 * In-process replay store: for one instance only (use the Redis or TypeORM store
 * when several instances share traffic). It never evicts an unexpired nonce to
 * make room, since that would re-open a replay window: when full it refuses.
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly expiries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly timer: NodeJS.Timeout;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1_000_000;
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.timer.unref();
  }

  async claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    const key = `${scope}\u0000${nonce}`;
    const now = Date.now();
    const expires = this.expiries.get(key);
    if (expires !== undefined && expires > now) return false;
    if (expires === undefined && this.expiries.size >= this.maxEntries) {
      this.sweep(now);
      if (this.expiries.size >= this.maxEntries) {
        throw new ReplayStoreUnavailableError(`memory replay store is full (${this.maxEntries} live nonces)`);
      }
    }
    this.expiries.set(key, now + ttlMs);
    return true;
  }

  /** Number of nonces currently held (expired ones until the next sweep). */
  get size(): number {
    return this.expiries.size;
  }

  sweep(now = Date.now()): void {
    for (const [key, expires] of this.expiries) if (expires <= now) this.expiries.delete(key);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
