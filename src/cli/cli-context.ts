// Loaded only by the commands that use the database (users, keys, certs): the
// signing commands run without TypeORM, reflect-metadata or a driver installed.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { CertificateRegistry } from '../certificate-strategy/certificate-registry';
import { redactDatabaseUrl } from '../database/database-url';
import { dataSourceOptionsFromUrl } from '../database/keypair-auth-data-source';
import { KeyRegistry } from '../keys/key-registry';
import { TypeOrmUserDirectory } from '../keys/typeorm-user-directory';
import type { ChosenDatabase } from './cli-database';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';

/** The table every keypair-auth database has (the first migration creates it). */
const USERS_TABLE = 'keypair_auth_users';

function noTables(db: ChosenDatabase): CliError {
  return new CliError(
    `the database ${redactDatabaseUrl(db.url)} has no keypair-auth tables. ` +
      'Point --database or DATABASE_URL at the database your server uses, or pass --create to create the tables in this one.',
  );
}

interface SqliteConnection {
  prepare(sql: string): { get(...params: unknown[]): unknown };
  close(): void;
}

/** Whether an existing SQLite file holds the keypair-auth tables; opened without writing anything. */
function sqliteHasTables(path: string): boolean {
  let open: new (path: string, options: { fileMustExist: boolean }) => SqliteConnection;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    open = require('better-sqlite3') as typeof open;
  } catch {
    throw new CliError('SQLite databases need the better-sqlite3 package: npm install better-sqlite3.');
  }
  const connection = new open(path, { fileMustExist: true });
  try {
    return (
      connection.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(USERS_TABLE) !==
      undefined
    );
  } catch (error) {
    throw new CliError(
      `${path} is not a SQLite database (${(error as Error).message}): point --database or DATABASE_URL at the file your server uses.`,
    );
  } finally {
    connection.close();
  }
}

function describeConnectError(error: unknown): string {
  const e = error as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code;
  if (code === 'ECONNREFUSED')
    return 'connection refused (ECONNREFUSED) — is PostgreSQL running on that host and port?';
  if (code === 'ENOTFOUND') return 'host not found (ENOTFOUND) — check the host name in the URL';
  if (code === '3D000') return `${e.message} — create it (createdb) or fix the database name in the URL`;
  if (code === '28P01') return `${e.message} — check the user and password in the URL`;
  if (/Cannot find module '(pg|better-sqlite3)'|install .*(pg|better-sqlite3)/.test(e.message ?? ''))
    return `${e.message}`;
  return e.message ? `${e.message}${code ? ` (${code})` : ''}` : String(error);
}

/** Opens the chosen database and migrates it; refuses one without our tables unless --create. */
async function openDatabase(db: ChosenDatabase, io: CliIo): Promise<DataSource> {
  if (db.location.kind === 'sqlite' && !db.create && !sqliteHasTables(db.location.path)) throw noTables(db);
  const dataSource = new DataSource(dataSourceOptionsFromUrl(db.url));
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new CliError(
      `could not open the database ${redactDatabaseUrl(db.url)}: ${describeConnectError(error)}`,
    );
  }
  try {
    if (db.location.kind === 'postgres' && !db.create) {
      const runner = dataSource.createQueryRunner();
      try {
        if (!(await runner.hasTable(USERS_TABLE))) throw noTables(db);
      } finally {
        await runner.release();
      }
    }
    const applied = await dataSource.runMigrations();
    if (applied.length > 0) io.err(`applied ${applied.length} migration(s): the database is ready`);
    return dataSource;
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}

export async function withRegistry<T>(
  db: ChosenDatabase,
  io: CliIo,
  fn: (registry: KeyRegistry, users: TypeOrmUserDirectory) => Promise<T>,
): Promise<T> {
  const dataSource = await openDatabase(db, io);
  try {
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

export async function withCertificates<T>(
  db: ChosenDatabase,
  io: CliIo,
  fn: (certificates: CertificateRegistry, users: TypeOrmUserDirectory) => Promise<T>,
): Promise<T> {
  const dataSource = await openDatabase(db, io);
  try {
    const certificates = new CertificateRegistry(dataSource, {
      cacheMax: 10,
      cacheTtlMs: 1,
      negativeTtlMs: 1,
    });
    return await fn(certificates, new TypeOrmUserDirectory(dataSource));
  } finally {
    await dataSource.destroy();
  }
}
