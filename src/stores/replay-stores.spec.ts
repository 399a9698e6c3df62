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
