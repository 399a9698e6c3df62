import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from '../database/keypair-auth-data-source';
import { KeyRegistry } from '../keys/key-registry';
import { TypeOrmUserDirectory } from '../keys/typeorm-user-directory';

/** Opens the same database as the demo server (DATABASE_URL, default SQLite in ./data), migrated. */
export async function withRegistry<T>(
  fn: (registry: KeyRegistry, users: TypeOrmUserDirectory) => Promise<T>,
): Promise<T> {
  const dataSource = new DataSource(dataSourceOptionsFromUrl(process.env.DATABASE_URL));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
    const users = new TypeOrmUserDirectory(dataSource);
    const registry = new KeyRegistry(dataSource, users, {
      cacheMax: 10,
      cacheTtlMs: 1,
      negativeTtlMs: 1,
      lastUsedFlushIntervalMs: 60_000,
    });
    try {
      return await fn(registry, users);
    } finally {
      await registry.close();
    }
  } finally {
    await dataSource.destroy();
  }
}
