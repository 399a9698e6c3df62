import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { PublicKey } from '../keys/public-key.entity';
import { User } from '../keys/user.entity';
import { KeypairAuthInit1732320000000 } from '../migrations/1732320000000-keypair-auth-init';
import { NonceRecord } from '../stores/nonce.entity';

/** Add these to your TypeORM DataSource. */
export const KEYPAIR_AUTH_ENTITIES = [User, PublicKey, NonceRecord];

/** Run these (or copy them into your own migrations folder). */
export const KEYPAIR_AUTH_MIGRATIONS = [KeypairAuthInit1732320000000];

export const DEFAULT_DATABASE_URL = 'sqlite:./data/keypair-auth.sqlite';

/**
 * DataSource options from a URL: `postgres://…` / `postgresql://…`, or
 * `sqlite:PATH` (`sqlite::memory:` for a throwaway database). Used by the demo,
 * the CLI and ormconfig.ts so all three agree on the same default.
 */
export function dataSourceOptionsFromUrl(url: string = DEFAULT_DATABASE_URL): DataSourceOptions {
  const common = {
    entities: KEYPAIR_AUTH_ENTITIES,
    migrations: KEYPAIR_AUTH_MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: false,
  } as const;
  if (/^postgres(ql)?:\/\//.test(url)) {
    return { ...common, type: 'postgres', url, extra: { max: 10 } };
  }
  if (url.startsWith('sqlite:')) {
    const database = url.slice('sqlite:'.length);
    if (database !== ':memory:') mkdirSync(dirname(database), { recursive: true });
    return { ...common, type: 'better-sqlite3', database, enableWAL: database !== ':memory:' };
  }
  throw new Error(
    `DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got ${JSON.stringify(url.slice(0, 20))}).`,
  );
}
