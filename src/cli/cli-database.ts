import { existsSync, statSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import {
  DatabaseLocation,
  DatabaseUrlError,
  DEFAULT_DATABASE_URL,
  parseDatabaseUrl,
  redactDatabaseUrl,
} from '../database/database-url';
import type { KeyRegistry } from '../keys/key-registry';
import type { TypeOrmUserDirectory } from '../keys/typeorm-user-directory';
import type { CertificateRegistry } from '../certificate-strategy/certificate-registry';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';

/** The options every command that reads or writes the database takes. */
export interface DatabaseOptions {
  database?: string;
  create?: boolean;
}

/** The database a command will use, and where that choice came from. */
export interface ChosenDatabase {
  readonly url: string;
  readonly location: Exclude<DatabaseLocation, { kind: 'sqlite-memory' }>;
  /** Where the URL came from. */
  readonly source: '--database' | 'DATABASE_URL' | 'default';
  readonly create: boolean;
}

function databaseUrlArgument(value: string): string {
  try {
    parseDatabaseUrl(value);
  } catch (error) {
    if (!(error instanceof DatabaseUrlError)) throw error;
    // Commander's own message quotes the argument: a URL that may hold a password is not repeated.
    if (redactDatabaseUrl(value) !== value) throw new CliError(`--database: ${error.message}`);
    throw new InvalidArgumentError(error.message);
  }
  return value;
}

/** Adds --database and --create to a command that opens the database. */
export function addDatabaseOptions(command: Command): Command {
  return command
    .option(
      '--database <url>',
      `database URL, sqlite:PATH or postgres://… (default: $DATABASE_URL, else ${DEFAULT_DATABASE_URL})`,
      databaseUrlArgument,
    )
    .option(
      '--create',
      'create the database (a new SQLite file) and its tables if they do not exist yet; without it the CLI never creates one',
    );
}

/** --database, else DATABASE_URL, else the default; checked, never opened. */
export function chooseDatabase(
  options: DatabaseOptions,
  env: NodeJS.ProcessEnv = process.env,
): ChosenDatabase {
  const [url, source]: [string, ChosenDatabase['source']] =
    options.database !== undefined
      ? [options.database, '--database']
      : env.DATABASE_URL
        ? [env.DATABASE_URL, 'DATABASE_URL']
        : [DEFAULT_DATABASE_URL, 'default'];
  let location: DatabaseLocation;
  try {
    location = parseDatabaseUrl(url);
  } catch (error) {
    if (error instanceof DatabaseUrlError)
      throw new CliError(source === 'DATABASE_URL' ? `DATABASE_URL: ${error.message}` : error.message);
    throw error;
  }
  if (location.kind === 'sqlite-memory')
    throw new CliError(
      `${source === 'DATABASE_URL' ? 'DATABASE_URL is' : 'the database is'} sqlite::memory:, which is gone when the command ends: ` +
        'give the file your server uses (sqlite:PATH) or a postgres:// URL.',
    );
  return { url, location, source, create: options.create === true };
}

/** Refuses a missing SQLite file unless --create: before anything can create it. */
function checkSqliteFile(db: ChosenDatabase): void {
  if (db.location.kind !== 'sqlite') return;
  const path = db.location.path;
  if (existsSync(path)) {
    if (!statSync(path).isFile())
      throw new CliError(
        `${path} is not a file: point --database or DATABASE_URL at a SQLite file (sqlite:PATH).`,
      );
    return;
  }
  if (db.create) return;
  throw new CliError(
    `there is no database at ${path}. ` +
      'Point --database or DATABASE_URL at the database your server uses (start the demo with `npm start` to create ./data/keypair-auth.sqlite), ' +
      'or pass --create to make a new one here.',
  );
}

async function loadContext(): Promise<typeof import('./cli-context')> {
  try {
    return await import('./cli-context');
  } catch (error) {
    const missing = /Cannot find module '([^']+)'/.exec((error as Error).message)?.[1];
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND' && missing && !missing.startsWith('.'))
      throw new CliError(
        `the users, keys and certs commands need ${missing}, which is not installed: ` +
          'npm install typeorm reflect-metadata, plus better-sqlite3 (SQLite) or pg (PostgreSQL).',
      );
    throw error;
  }
}

/** Says which database it uses (stderr), checks it, opens and migrates it, and closes it after `fn`. */
async function withDatabase<T>(
  options: DatabaseOptions,
  io: CliIo,
  open: (context: typeof import('./cli-context'), db: ChosenDatabase) => Promise<T>,
): Promise<T> {
  const db = chooseDatabase(options);
  io.err(
    `using database ${redactDatabaseUrl(db.url)} ` +
      (db.source === 'default'
        ? '(the default: set --database or DATABASE_URL for another)'
        : `(from ${db.source})`),
  );
  checkSqliteFile(db);
  return open(await loadContext(), db);
}

/** Runs `fn` with the key registry and user directory of the chosen database. */
export function withRegistry<T>(
  options: DatabaseOptions,
  io: CliIo,
  fn: (registry: KeyRegistry, users: TypeOrmUserDirectory) => Promise<T>,
): Promise<T> {
  return withDatabase(options, io, (context, db) => context.withRegistry(db, io, fn));
}

/** Runs `fn` with the certificate registry and user directory of the chosen database. */
export function withCertificates<T>(
  options: DatabaseOptions,
  io: CliIo,
  fn: (certificates: CertificateRegistry, users: TypeOrmUserDirectory) => Promise<T>,
): Promise<T> {
  return withDatabase(options, io, (context, db) => context.withCertificates(db, io, fn));
}
