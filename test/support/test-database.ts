import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { haveService, PG_URL } from '../setup/services';

export type DatabaseKind = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL when the global setup reached it (REQUIRE_SERVICES=1 makes its absence fatal). */
export const DATABASES: DatabaseKind[] = haveService('postgres') ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of the given kind: in-memory SQLite, or a new PostgreSQL database. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') return { url: 'sqlite::memory:', drop: async () => undefined };
  const name = `kpa_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
