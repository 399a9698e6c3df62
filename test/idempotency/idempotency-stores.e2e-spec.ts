import { DataSource } from 'typeorm';
import {
  dataSourceOptionsFromUrl,
  IdempotencyRecord,
  IdempotencyStoreUnavailableError,
  MemoryIdempotencyStore,
  StoredResponse,
  TypeOrmIdempotencyStore,
} from '../../src';
import { createRedisClient, RedisIdempotencyStore } from '../../src/redis';
import { idempotencyStoreContract } from '../../src/testing';
import { haveService, REDIS_URL } from '../setup/services';
import { createTestDatabase, DATABASES } from '../support/test-database';

/** A client with the fail-fast options (no offline queue), once it is connected. */
async function connectedRedis(): Promise<ReturnType<typeof createRedisClient>> {
  const redis = createRedisClient(REDIS_URL);
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

idempotencyStoreContract('memory', async () => {
  const store = new MemoryIdempotencyStore();
  return { store, close: async () => store.close() };
});

for (const kind of DATABASES) {
  idempotencyStoreContract(`TypeORM on ${kind}`, async () => {
    const db = await createTestDatabase(kind);
    const dataSource = new DataSource(dataSourceOptionsFromUrl(db.url));
    await dataSource.initialize();
    await dataSource.runMigrations();
    return {
      store: new TypeOrmIdempotencyStore(dataSource),
      close: async () => {
        await dataSource.destroy();
        await db.drop();
      },
    };
  });
}

if (haveService('redis')) {
  idempotencyStoreContract('Redis', async () => {
    const redis = await connectedRedis();
    const store = new RedisIdempotencyStore(redis, { prefix: `kpa-test:idem:${Date.now()}:` });
    return { store, close: async () => void (await redis.quit()) };
  });
} else {
  console.warn('SKIPPING the Redis idempotency store contract: no Redis at 127.0.0.1:6379');
}

const response: StoredResponse = { status: 201, headers: {}, body: '{"ok":true}' };
const lock = (key: string, owner = 'owner-1') => ({ scope: 'user:1', key, owner });
const acquire = (key: string, owner = 'owner-1') => ({
  ...lock(key, owner),
  fingerprint: 'f'.repeat(64),
  lockTtlMs: 10_000,
  retentionMs: 60_000,
});

describe('MemoryIdempotencyStore limits', () => {
  it('refuses (fails closed) instead of evicting a live record when full', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 2 });
    await store.acquire(acquire('a'));
    await store.acquire(acquire('b'));
    await expect(store.acquire(acquire('c'))).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
    await expect(store.acquire(acquire('a', 'other'))).resolves.toMatchObject({ outcome: 'in-progress' });
    store.close();
  });

  it('bounds the bytes of stored responses', async () => {
    const store = new MemoryIdempotencyStore({ maxBytes: 10_000 });
    await store.acquire(acquire('big'));
    const big = { ...response, body: JSON.stringify('x'.repeat(20_000)) };
    await expect(store.complete(lock('big'), big, 60_000)).rejects.toBeInstanceOf(
      IdempotencyStoreUnavailableError,
    );
    store.close();
  });
});

describe.each(DATABASES)('TypeOrmIdempotencyStore on %s', (kind) => {
  let dataSource: DataSource;
  let store: TypeOrmIdempotencyStore;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await createTestDatabase(kind);
    drop = db.drop;
    dataSource = new DataSource(dataSourceOptionsFromUrl(db.url));
    await dataSource.initialize();
    await dataSource.runMigrations();
    store = new TypeOrmIdempotencyStore(dataSource);
  });
  afterAll(async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
    await drop();
  });

  it('completes inside a transaction: a rollback leaves the record in progress, a commit completes it', async () => {
    await store.acquire(acquire('tx'));
    await expect(
      store.transaction(async (manager) => {
        expect(await store.complete(lock('tx'), response, 60_000, manager)).toBe(true);
        throw new Error('crash after the record was written');
      }),
    ).rejects.toThrow('crash after');
    const row = await dataSource.getRepository(IdempotencyRecord).findOneByOrFail({});
    expect(row.status).toBe('in_progress');
    expect(row.lockedUntil).toBeInstanceOf(Date);
    await store.transaction((manager) => store.complete(lock('tx'), response, 60_000, manager));
    await expect(store.acquire(acquire('tx', 'someone-else'))).resolves.toEqual({
      outcome: 'completed',
      response,
    });
  });

  it('refuses a transaction of another DataSource', async () => {
    const other = new DataSource(dataSourceOptionsFromUrl('sqlite::memory:'));
    await other.initialize();
    await store.acquire(acquire('foreign'));
    await expect(
      other.transaction((m) => store.complete(lock('foreign'), response, 60_000, m)),
    ).rejects.toThrow(/another DataSource/);
    await other.destroy();
  });

  it('rejects with IdempotencyStoreUnavailableError when the database is gone', async () => {
    const gone = new DataSource(dataSourceOptionsFromUrl('sqlite::memory:'));
    await gone.initialize();
    await gone.runMigrations();
    const goneStore = new TypeOrmIdempotencyStore(gone);
    await gone.destroy();
    await expect(goneStore.acquire(acquire('x'))).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
    await expect(goneStore.release(lock('x'))).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
  });
});

// Needs Redis; skipped (visibly) without it, and CI (REQUIRE_SERVICES=1) fails instead.
(haveService('redis') ? describe : describe.skip)('RedisIdempotencyStore', () => {
  it('rejects, fast, when Redis cannot be reached', async () => {
    const redis = createRedisClient('redis://127.0.0.1:1', { retryStrategy: () => null });
    const store = new RedisIdempotencyStore(redis);
    const started = Date.now();
    await expect(store.acquire(acquire('k'))).rejects.toBeInstanceOf(IdempotencyStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(3000);
    redis.disconnect();
  });

  it('refuses to join a database transaction', async () => {
    const redis = await connectedRedis();
    const store = new RedisIdempotencyStore(redis, { prefix: `kpa-test:idem-tx:${Date.now()}:` });
    await expect(store.complete(lock('k'), response, 1000, {} as never)).rejects.toThrow(/cannot join/);
    await redis.quit();
  });
});
