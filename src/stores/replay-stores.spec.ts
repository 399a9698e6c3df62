import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { createTestDatabase, DATABASES } from '../../test/support/test-database';
import { dataSourceOptionsFromUrl } from '../database/keypair-auth-data-source';
import { replayStoreContract } from '../testing';
import { FULL_STORE_SWEEP_SLOTS, MemoryReplayStore } from './memory-replay.store';
import { ReplayStoreUnavailableError } from './replay-store.interface';
import { TypeOrmReplayStore } from './typeorm-replay.store';

replayStoreContract('memory', async () => {
  const store = new MemoryReplayStore();
  return { store, close: async () => store.close() };
});

for (const kind of DATABASES) {
  replayStoreContract(`TypeORM on ${kind}`, async () => {
    const db = await createTestDatabase(kind);
    const dataSource = new DataSource(dataSourceOptionsFromUrl(db.url));
    await dataSource.initialize();
    await dataSource.runMigrations();
    return {
      store: new TypeOrmReplayStore(dataSource),
      close: async () => {
        await dataSource.destroy();
        await db.drop();
      },
    };
  });
}

describe('MemoryReplayStore limits', () => {
  it('refuses (fails closed) instead of evicting a live nonce when full', async () => {
    const store = new MemoryReplayStore({ maxEntries: 3 });
    for (const n of ['a', 'b', 'c']) await expect(store.claim('s', n, 60_000)).resolves.toBe(true);
    await expect(store.claim('s', 'd', 60_000)).rejects.toBeInstanceOf(ReplayStoreUnavailableError);
    await expect(store.claim('s', 'a', 60_000)).resolves.toBe(false);
    store.close();
  });

  it('makes room by sweeping expired nonces', async () => {
    const store = new MemoryReplayStore({ maxEntries: 2 });
    await store.claim('s', 'a', 50);
    await store.claim('s', 'b', 50);
    await new Promise((r) => setTimeout(r, 80));
    await expect(store.claim('s', 'c', 60_000)).resolves.toBe(true); // reclaimed a slot
    store.sweep();
    expect(store.size).toBe(1);
    store.close();
  });
});

/** Exposes the store's count of swept slots, to bound the work of a claim without timing it. */
class CountingStore extends MemoryReplayStore {
  get swept(): number {
    return this.sweptSlots;
  }
}

describe('MemoryReplayStore when full', () => {
  let now = 1_000_000;
  beforeEach(() => {
    now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(() => jest.restoreAllMocks());

  async function fill(store: MemoryReplayStore, count: number, ttlMs: number, prefix = 'f'): Promise<void> {
    let fresh = 0;
    for (let i = 0; i < count; i++) if (await store.claim('s', `${prefix}${i}`, ttlMs)) fresh++;
    expect(fresh).toBe(count);
  }

  it('refuses a claim with bounded work, not a sweep of every nonce', async () => {
    const max = 100_000; // 262,144 slots: a full sweep would visit them all
    const store = new CountingStore({ maxEntries: max });
    await fill(store, max, 3_600_000);
    let worst = 0;
    for (let i = 0; i < 1000; i++) {
      const before = store.swept;
      await expect(store.claim('s', `new${i}`, 60_000)).rejects.toBeInstanceOf(ReplayStoreUnavailableError);
      worst = Math.max(worst, store.swept - before);
    }
    expect(worst).toBeLessThanOrEqual(FULL_STORE_SWEEP_SLOTS);
    await expect(store.claim('s', 'f42', 60_000)).resolves.toBe(false); // still refused as a replay
    expect(store.size).toBe(max);
    store.close();
  });

  it('reclaims expired nonces as it refuses, within (slots / sweep step) claims', async () => {
    const max = 1000; // 2,048 slots
    const store = new CountingStore({ maxEntries: max });
    await fill(store, max - 1, 3_600_000);
    await expect(store.claim('s', 'short', 1000)).resolves.toBe(true);
    now += 1000; // 'short' expired; the other 999 are live
    let refused = 0;
    let work = 0;
    for (let i = 0; ; i++) {
      const before = store.swept;
      const answer = await store.claim('s', `new${i}`, 60_000).catch((error: unknown) => error);
      work = Math.max(work, store.swept - before);
      if (answer === true) break;
      expect(answer).toBeInstanceOf(ReplayStoreUnavailableError);
      refused++;
    }
    expect(refused).toBeLessThanOrEqual(2048 / FULL_STORE_SWEEP_SLOTS);
    expect(work).toBeLessThanOrEqual(FULL_STORE_SWEEP_SLOTS + 64); // + the shifting of one deletion
    for (let i = 0; i < max - 1; i++) await expect(store.claim('s', `f${i}`, 60_000)).resolves.toBe(false);
    store.close();
  });

  it('takes new nonces at once when everything it holds has expired', async () => {
    const max = 5000;
    const store = new MemoryReplayStore({ maxEntries: max });
    await fill(store, max, 500);
    now += 500;
    await fill(store, max, 60_000, 'g'); // every claim finds room: none refused
    for (let i = 0; i < max; i += 97) await expect(store.claim('s', `g${i}`, 60_000)).resolves.toBe(false);
    store.close();
  });
});

/** A store whose hash is forced, to show what a collision does. */
class CollidingStore extends MemoryReplayStore {
  protected override hash(): void {
    this.h1 = 42;
    this.h2 = 7;
  }
}

/**
 * A store whose nonces (`n<number>`) all hash to 16 home slots, with no collisions:
 * long clusters, so that deleting from them (the sweep of a full store) is exercised.
 */
class ClusteringStore extends MemoryReplayStore {
  protected override hash(_scope: string, nonce: string): void {
    const n = Number(nonce.slice(1));
    this.h1 = n;
    this.h2 = n & 15;
  }
}

describe('MemoryReplayStore hash set', () => {
  afterEach(() => jest.restoreAllMocks());

  it('treats a hash collision as a replay (fails closed), never as a fresh nonce', async () => {
    const store = new CollidingStore();
    await expect(store.claim('s', 'a', 60_000)).resolves.toBe(true);
    await expect(store.claim('s', 'b', 60_000)).resolves.toBe(false);
    await expect(store.claim('other-scope', 'a', 60_000)).resolves.toBe(false);
    store.close();
  });

  it('lets a nonce be claimed again once it expired, and only then', async () => {
    let now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const store = new MemoryReplayStore();
    await expect(store.claim('s', 'a', 1000)).resolves.toBe(true);
    now += 999;
    await expect(store.claim('s', 'a', 1000)).resolves.toBe(false);
    now += 1;
    await expect(store.claim('s', 'a', 1000)).resolves.toBe(true);
    await expect(store.claim('s', 'a', 1000)).resolves.toBe(false);
    store.close();
  });

  it.each([
    ['its keyed hash', MemoryReplayStore],
    ['a hash that sends every nonce to 16 home slots (long clusters)', ClusteringStore],
  ])(
    'answers like a Map of expiries through growth, shrinking, sweeps and a full store, with %s (model check)',
    (_hash, Store) => {
      // Few full sweeps: they rebuild the table, so the states the incremental sweep leaves must last.
      const op = fc.oneof(
        {
          weight: 12,
          arbitrary: fc.record({
            kind: fc.constant('claim' as const),
            n: fc.oneof(fc.nat(60), fc.nat(4000)),
            ttl: fc.integer({ min: 1, max: 5000 }),
          }),
        },
        {
          weight: 4,
          arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 400 }) }),
        },
        { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
      );
      return fc.assert(
        fc.asyncProperty(
          fc.array(op, { minLength: 200, maxLength: 3000, size: 'max' }),
          fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 2500 })),
          async (ops, max) => {
            let now = 5_000;
            jest.spyOn(Date, 'now').mockImplementation(() => now);
            const store = new Store({ maxEntries: max });
            const model = new Map<string, number>();
            try {
              for (const o of ops) {
                if (o.kind === 'tick') now += o.ms;
                else if (o.kind === 'sweep') store.sweep();
                else {
                  const nonce = `n${o.n}`;
                  const live = (model.get(nonce) ?? 0) > now;
                  const liveCount = [...model.values()].filter((e) => e > now).length;
                  const answer = await store.claim('s', nonce, o.ttl).catch((error: unknown) => error);
                  if (live) {
                    expect(answer).toBe(false);
                  } else if (answer === true) {
                    // A new slot while below capacity, or this nonce's own expired entry reused.
                    if (liveCount >= max) expect(model.has(nonce)).toBe(true);
                    model.set(nonce, now + o.ttl);
                  } else {
                    // Refused only when full: of live nonces, or of expired ones not reclaimed yet.
                    expect(answer).toBeInstanceOf(ReplayStoreUnavailableError);
                    expect(store.size).toBeGreaterThanOrEqual(max);
                  }
                }
                // Bounded, and never forgets a live nonce (size counts every held nonce).
                expect(store.size).toBeLessThanOrEqual(max);
                expect(store.size).toBeGreaterThanOrEqual([...model.values()].filter((e) => e > now).length);
              }
            } finally {
              store.close();
              jest.restoreAllMocks();
            }
          },
        ),
        { numRuns: 40 },
      );
    },
    120_000,
  );
});

describe('TypeOrmReplayStore failure', () => {
  it('rejects with ReplayStoreUnavailableError when the database is gone', async () => {
    const dataSource = new DataSource(dataSourceOptionsFromUrl('sqlite::memory:'));
    await dataSource.initialize();
    await dataSource.runMigrations();
    const store = new TypeOrmReplayStore(dataSource);
    await dataSource.destroy();
    await expect(store.claim('s', 'n', 1000)).rejects.toBeInstanceOf(ReplayStoreUnavailableError);
  });
});
