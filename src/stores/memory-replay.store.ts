import { randomBytes } from 'node:crypto';
import { ReplayStore, ReplayStoreUnavailableError } from './replay-store.interface';
import { assertStoreTtl } from './store-ttl';

export interface MemoryReplayStoreOptions {
  /** Most nonces held at once (default 1,000,000). When full of unexpired nonces, claims fail closed. */
  maxEntries?: number;
  /** How often expired nonces are swept and the arrays shrunk (default 30 s). */
  sweepIntervalMs?: number;
}

const MIN_CAPACITY = 1024;
/**
 * Slots a claim on a full store examines for expired nonces to reclaim before it is
 * refused: bounded work (a few microseconds), never a sweep of the whole store. As large
 * as the smallest table, so a small store sees every expired nonce at once.
 */
export const FULL_STORE_SWEEP_SLOTS = MIN_CAPACITY;

/**
 * In-process replay store: for one instance only (use the Redis or TypeORM store
 * when several instances share traffic). It never evicts an unexpired nonce to
 * make room, since that would re-open a replay window: when full it refuses.
 *
 * A hash set in typed arrays rather than a Map of strings, written by hand
 * because no cache library keeps entries it must not evict (lru-cache evicts by
 * design). Each nonce is held as a 64-bit keyed hash of (scope, nonce) and its
 * expiry: 16 bytes a slot, at most half of the slots used, no object per nonce.
 * A Map held each nonce as a string of ~80 characters plus its entry (about 190
 * bytes), every one of them a heap object that each garbage collection had to
 * mark again; at a few thousand requests a second that marking, on V8's helper
 * threads, cost about as much CPU as the rest of the authentication.
 *
 * Correctness does not depend on the hash: a nonce claimed twice hashes the
 * same and is refused. Two different nonces whose hashes collide make the
 * second refused as a replay (fail closed), with a probability of about
 * (live nonces) / 2^64 per claim; the hash is seeded from randomBytes per
 * store, so collisions cannot be computed in advance.
 *
 * Expired nonces are dropped by a timer (every sweepIntervalMs, one pass that may
 * also shrink the arrays) and, when the store is full, incrementally: a claim that
 * finds the store full advances a cursor over FULL_STORE_SWEEP_SLOTS slots, deletes
 * the expired nonces there (backward-shift deletion, so linear probing stays
 * correct), and is refused if that freed nothing. A burst above capacity therefore
 * costs a bounded amount of work per refused request (a clean 503), not a sweep of
 * the whole store; expired nonces are reclaimed within (table size /
 * FULL_STORE_SWEEP_SLOTS) claims of a full store, so it may refuse a few claims
 * more than its count of live nonces alone would.
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly maxEntries: number;
  /** The table size that holds maxEntries at a load of one half: growth stops there. */
  private readonly maxCapacity: number;
  private readonly timer: NodeJS.Timeout;
  private readonly seedA: number;
  private readonly seedB: number;
  /** Slots: the two halves of the hash, and the expiry in epoch ms (0 = empty). */
  private hashA = new Int32Array(MIN_CAPACITY);
  private hashB = new Int32Array(MIN_CAPACITY);
  private expiry = new Float64Array(MIN_CAPACITY);
  /** Occupied slots, expired ones included until they are swept. */
  private used = 0;
  /** Where the incremental sweep of a full store goes on. */
  private cursor = 0;
  /** Scratch for hash(): the two halves of the last hash. */
  protected h1 = 0;
  protected h2 = 0;
  /** Slots visited by sweeps, deletions and rebuilds (not by lookups): the work a test can bound. */
  protected sweptSlots = 0;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1_000_000;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(
        `MemoryReplayStore: maxEntries must be a positive integer, got ${this.maxEntries}`,
      );
    }
    let capacity = MIN_CAPACITY;
    while (capacity < 2 * this.maxEntries) capacity *= 2;
    this.maxCapacity = capacity;
    const seeds = randomBytes(8);
    this.seedA = seeds.readInt32LE(0);
    this.seedB = seeds.readInt32LE(4);
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.timer.unref();
  }

  async claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    assertStoreTtl(ttlMs);
    return this.claimSync(scope, nonce, ttlMs, Date.now());
  }

  private claimSync(scope: string, nonce: string, ttlMs: number, now: number): boolean {
    this.hash(scope, nonce);
    const a = this.h1;
    const b = this.h2;
    const mask = this.expiry.length - 1;
    let slot = b & mask;
    for (let expires = this.expiry[slot]; expires !== 0; expires = this.expiry[slot]) {
      if (this.hashA[slot] === a && this.hashB[slot] === b) {
        if (expires > now) return false;
        this.expiry[slot] = now + ttlMs; // the same nonce, expired: claimed anew
        return true;
      }
      slot = (slot + 1) & mask;
    }
    if (this.used >= this.maxEntries) {
      // Full: reclaim what one bounded step of the sweep finds, or refuse.
      this.sweepStep(now, FULL_STORE_SWEEP_SLOTS);
      if (this.used >= this.maxEntries) {
        throw new ReplayStoreUnavailableError(
          `memory replay store is full (${this.maxEntries} nonces): raise maxEntries, or use the Redis or TypeORM replay store`,
        );
      }
      return this.claimSync(scope, nonce, ttlMs, now); // the step may have moved entries
    }
    if (2 * (this.used + 1) > this.expiry.length) {
      // Doubling (up to maxCapacity, which this load never exceeds) keeps growth amortised O(1).
      this.rebuild(now, this.expiry.length * 2);
      return this.claimSync(scope, nonce, ttlMs, now);
    }
    this.hashA[slot] = a;
    this.hashB[slot] = b;
    this.expiry[slot] = now + ttlMs;
    this.used++;
    return true;
  }

  /** Number of nonces currently held (expired ones until they are swept). */
  get size(): number {
    return this.used;
  }

  /** Drops every expired nonce and fits the arrays to what is left (every sweepIntervalMs). */
  sweep(now = Date.now()): void {
    let live = 0;
    for (let i = 0; i < this.expiry.length; i++) if (this.expiry[i] > now) live++;
    let capacity = this.expiry.length;
    while (2 * (live + 1) > capacity && capacity < this.maxCapacity) capacity *= 2;
    while (capacity > MIN_CAPACITY && 8 * live < capacity) capacity /= 2;
    this.sweptSlots += this.expiry.length;
    this.rebuild(now, capacity);
  }

  close(): void {
    clearInterval(this.timer);
  }

  /**
   * Visits `budget` slots from the cursor on and deletes the expired nonces there
   * (a deletion's shifting counts against the budget too).
   */
  private sweepStep(now: number, budget: number): void {
    const expiry = this.expiry;
    const mask = expiry.length - 1;
    let i = this.cursor;
    while (budget > 0) {
      budget--;
      this.sweptSlots++;
      const expires = expiry[i];
      if (expires !== 0 && expires <= now) {
        budget -= this.remove(i); // slot i may now hold an entry shifted back: look at it again
      } else {
        i = (i + 1) & mask;
      }
    }
    this.cursor = i;
  }

  /**
   * Empties slot `hole` by backward-shift deletion: every later entry of its cluster
   * that may live closer to its home slot moves back, so that no lookup ever meets a
   * gap before the entry it looks for. Returns the slots it visited.
   */
  private remove(hole: number): number {
    const { hashA, hashB, expiry } = this;
    const mask = expiry.length - 1;
    let visited = 0;
    for (let j = (hole + 1) & mask; expiry[j] !== 0; j = (j + 1) & mask) {
      visited++;
      // The entry at j stays if its home slot lies cyclically in (hole, j].
      if (((j - (hashB[j] & mask)) & mask) < ((j - hole) & mask)) continue;
      hashA[hole] = hashA[j];
      hashB[hole] = hashB[j];
      expiry[hole] = expiry[j];
      hole = j;
    }
    expiry[hole] = 0;
    this.used--;
    this.sweptSlots += visited;
    return visited;
  }

  /** Copies the unexpired nonces into fresh arrays of `capacity` slots (a power of two, at least twice them). */
  private rebuild(now: number, capacity: number): void {
    const { hashA, hashB, expiry } = this;
    const a = new Int32Array(capacity);
    const b = new Int32Array(capacity);
    const e = new Float64Array(capacity);
    const mask = capacity - 1;
    let live = 0;
    for (let i = 0; i < expiry.length; i++) {
      if (!(expiry[i] > now)) continue;
      let slot = hashB[i] & mask;
      while (e[slot] !== 0) slot = (slot + 1) & mask;
      a[slot] = hashA[i];
      b[slot] = hashB[i];
      e[slot] = expiry[i];
      live++;
    }
    this.sweptSlots += expiry.length;
    this.hashA = a;
    this.hashB = b;
    this.expiry = e;
    this.used = live;
    this.cursor = 0;
  }
  /**
   * Two seeded 32-bit hashes of scope, a NUL, and nonce, into h1 and h2 (the
   * mixing steps of MurmurHash3 x86_32 over UTF-16 code units, one pass for both).
   * Protected so a test can force collisions.
   */
  protected hash(scope: string, nonce: string): void {
    let a = this.seedA ^ (scope.length + nonce.length + 1);
    let b = this.seedB ^ (scope.length - nonce.length);
    for (let i = 0; i <= scope.length + nonce.length; i++) {
      const c =
        i < scope.length
          ? scope.charCodeAt(i)
          : i === scope.length
            ? 0
            : nonce.charCodeAt(i - scope.length - 1);
      let k = Math.imul(c, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      a ^= k;
      a = (a << 13) | (a >>> 19);
      a = (Math.imul(a, 5) + 0xe6546b64) | 0;
      b ^= Math.imul(k ^ (k >>> 7), 0x85ebca6b);
      b = (b << 17) | (b >>> 15);
      b = (Math.imul(b, 9) + 0x38b34ae5) | 0;
    }
    this.h1 = fmix(a);
    this.h2 = fmix(b);
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
