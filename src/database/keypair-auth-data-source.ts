import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { ClientCertificate } from '../certificate-strategy/client-certificate.entity';
import { IdempotencyRecord } from '../idempotency/idempotency-record.entity';
import { PublicKey } from '../keys/public-key.entity';
import { User } from '../keys/user.entity';
import { KeypairAuthInit1732320000000 } from '../migrations/1732320000000-keypair-auth-init';
import { KeypairAuthClientCertificates1733000000000 } from '../migrations/1733000000000-keypair-auth-client-certificates';
import { KeypairAuthIdempotency1734000000000 } from '../migrations/1734000000000-keypair-auth-idempotency';
import { KeypairAuthTokens1734100000000 } from '../migrations/1734100000000-keypair-auth-tokens';
import { KeypairAuthKeyAlgorithmDefaulted1734200000000 } from '../migrations/1734200000000-keypair-auth-key-algorithm-defaulted';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl } from './database-url';
import { NonceRecord } from '../stores/nonce.entity';
import { RefreshTokenRecord } from '../tokens/refresh-token.entity';
import { TokenGeneration } from '../tokens/token-generation.entity';

/** Add these to your TypeORM DataSource. */
export const KEYPAIR_AUTH_ENTITIES = [
  User,
  PublicKey,
  NonceRecord,
  ClientCertificate,
  IdempotencyRecord,
  RefreshTokenRecord,
  TokenGeneration,
];

/** Run these (or copy them into your own migrations folder). */
export const KEYPAIR_AUTH_MIGRATIONS = [
  KeypairAuthInit1732320000000,
  KeypairAuthClientCertificates1733000000000,
  KeypairAuthIdempotency1734000000000,
  KeypairAuthTokens1734100000000,
  KeypairAuthKeyAlgorithmDefaulted1734200000000,
];

export { DEFAULT_DATABASE_URL } from './database-url';

/**
 * DataSource options from a URL: `postgres://…` / `postgresql://…`, or
 * `sqlite:PATH` (`sqlite::memory:` for a throwaway database). Used by the demo,
 * the CLI and ormconfig.ts so all three agree on the same default; any other form
 * (`sqlite://…`, `mysql://…`) is a DatabaseUrlError naming the form to write.
 */
export function dataSourceOptionsFromUrl(url: string = DEFAULT_DATABASE_URL): DataSourceOptions {
  const common = {
    entities: KEYPAIR_AUTH_ENTITIES,
    migrations: KEYPAIR_AUTH_MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: false,
  } as const;
  const location = parseDatabaseUrl(url);
  if (location.kind === 'postgres') {
    // Bounded waits: with the database down, requests fail (503) in seconds instead of hanging.
    return {
      ...common,
      type: 'postgres',
      url,
      extra: { max: 10, connectionTimeoutMillis: 3000, query_timeout: 5000, statement_timeout: 5000 },
    };
  }
  if (location.kind === 'sqlite-memory') return { ...common, type: 'better-sqlite3', database: ':memory:' };
  mkdirSync(dirname(location.path), { recursive: true });
  return { ...common, type: 'better-sqlite3', database: location.path, enableWAL: true };
}
