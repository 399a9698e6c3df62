import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { createTestDatabase, DATABASES } from '../../test/support/test-database';
import { dataSourceOptionsFromUrl } from '../database/keypair-auth-data-source';
import { replayStoreContract } from '../testing';
import { MemoryReplayStore } from './memory-replay.store';
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
    await expect(store.claim('s', 'c', 60_000)).resolves.toBe(true);
    expect(store.size).toBe(1);
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

  it('answers like a Map of expiries through growth, shrinking and sweeps (model check)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('claim' as const),
        n: fc.oneof(fc.nat(60), fc.nat(4000)),
        ttl: fc.integer({ min: 1, max: 5000 }),
      }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 400 }) }),
      fc.constant({ kind: 'sweep' as const }),
    );
    return fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 200, maxLength: 3000, size: 'max' }),
        fc.integer({ min: 1, max: 2500 }),
        async (ops, max) => {
          let now = 5_000;
          jest.spyOn(Date, 'now').mockImplementation(() => now);
          const store = new MemoryReplayStore({ maxEntries: max });
          const model = new Map<string, number>();
          try {
            for (const o of ops) {
              if (o.kind === 'tick') now += o.ms;
              else if (o.kind === 'sweep') store.sweep();
              else {
                const nonce = `n${o.n}`;
                const live = (model.get(nonce) ?? 0) > now;
                const liveCount = [...model.values()].filter((e) => e > now).length;
                if (live) {
                  await expect(store.claim('s', nonce, o.ttl)).resolves.toBe(false);
                } else if (liveCount < max) {
                  await expect(store.claim('s', nonce, o.ttl)).resolves.toBe(true);
                  model.set(nonce, now + o.ttl);
                } else {
                  // Full of live nonces: refused, unless the store still holds this nonce's
                  // expired entry and reuses it (the model cannot see when it was swept).
                  const fresh = await store.claim('s', nonce, o.ttl).catch((error: unknown) => error);
                  if (fresh === true && model.has(nonce)) model.set(nonce, now + o.ttl);
                  else expect(fresh).toBeInstanceOf(ReplayStoreUnavailableError);
                }
              }
            }
          } finally {
            store.close();
            jest.restoreAllMocks();
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
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
