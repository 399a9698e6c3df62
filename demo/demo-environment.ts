import { untrustedFileReason } from './own-file';
import {
  DatabaseLocation,
  DatabaseUrlError,
  DEFAULT_DATABASE_URL,
  parseDatabaseUrl,
} from '../src/database/database-url';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { KeypairAuthConfigurationError } from '../src/errors/configuration.error';
import { validateIdempotencyOptions } from '../src/idempotency/idempotency-options';
import { validateOptions } from '../src/options/validate-options';
import type { HttpAdapterName } from './create-demo-app';
import { demoIdempotencyOptions } from './transfers/transfers.options';
import type { WebBotAuthOptions } from '../src';
import { webBotAuthFromEnvironment } from './web-bot-auth-environment';

/** The demo's settings, read from its environment and checked before it writes or opens anything. */
export interface DemoEnvironment {
  readonly port: number;
  readonly host: string;
  readonly adapter: HttpAdapterName;
  /** DATABASE_URL, or the default when it is unset or empty. */
  readonly databaseUrl: string;
  readonly database: DatabaseLocation;
  /** PUBLIC_ORIGIN, checked like the module's `origin` option. */
  readonly origin: string | undefined;
  /** Web Bot Auth agents from WEB_BOT_AUTH_AGENTS (WEB_BOT_AUTH_CA, WEB_BOT_AUTH_ALLOW_LOOPBACK); undefined when unset. */
  readonly webBotAuth: WebBotAuthOptions | undefined;
}

/** A demo environment variable with a value the demo cannot use; the message says what to set. */
export class DemoEnvironmentError extends Error {
  override readonly name = 'DemoEnvironmentError';
}

const ADAPTERS: readonly HttpAdapterName[] = ['express', 'fastify'];

/** An unset or empty variable is the default: `PORT= npm start` listens on 3000, like `npm start`. */
function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** The first bytes of every SQLite 3 database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * A sqlite: DATABASE_URL must name a file the demo can open: absent (created at start), empty,
 * or a SQLite database. A directory, or a file of another kind (e.g. `sqlite:conf/settings.ini`),
 * is refused here, before the development key is written next to it.
 */
function checkSqliteTarget(path: string): void {
  const file = resolve(path);
  let kind: 'absent' | 'file' | 'other' = 'absent';
  try {
    kind = statSync(file).isFile() ? 'file' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (kind === 'other')
    throw new DemoEnvironmentError(
      `DATABASE_URL: ${file} is not a file (a directory?): point DATABASE_URL at a SQLite file in it, e.g. sqlite:${file}/keypair-auth.sqlite.`,
    );
  for (const part of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    const why = untrustedFileReason(part);
    if (why)
      throw new DemoEnvironmentError(
        `DATABASE_URL: ${part} ${why}: the demo opens an existing SQLite database only from a regular file that this user ` +
          `(uid ${process.getuid?.() ?? '?'}) owns and no one else can write, since whoever wrote it decides who is an admin. ` +
          'Point DATABASE_URL at a directory only you can write (e.g. sqlite:./data/keypair-auth.sqlite), or, if the file is yours, ' +
          `chown it to you and chmod 600 ${part}.`,
      );
  }
  if (kind === 'absent') {
    const parent = dirname(file);
    let parentIsDirectory = true;
    try {
      parentIsDirectory = statSync(parent).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (!parentIsDirectory)
      throw new DemoEnvironmentError(
        `DATABASE_URL: ${parent} is a file, so ${file} cannot be created in it: point DATABASE_URL at a path in a directory.`,
      );
    return;
  }
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(file, 'r');
  let read: number;
  try {
    read = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  // An empty file is a new database to SQLite; anything else must start with its header.
  if (read > 0 && !head.subarray(0, read).equals(SQLITE_HEADER))
    throw new DemoEnvironmentError(
      `DATABASE_URL: ${file} is not a SQLite database: point DATABASE_URL at a SQLite file (or a path where none exists yet, to create one).`,
    );
}

/** HOST must be an IP address or a host name (the demo listens on it; whether it resolves is checked at start). */
function checkHost(host: string): string {
  let hostname: string | undefined;
  try {
    hostname = new URL(`http://${host}/`).hostname;
  } catch {
    hostname = undefined;
  }
  if (isIP(host) === 0 && (hostname === undefined || hostname !== host.toLowerCase()))
    throw new DemoEnvironmentError(
      `HOST=${JSON.stringify(host)} is not an IP address or host name: set HOST to e.g. 127.0.0.1, 0.0.0.0, :: or localhost, ` +
        'or leave it unset for 127.0.0.1.',
    );
  return host;
}

/** Runs a library option check and words its error for the environment variable it came from. */
function checkOption(variable: string, check: () => unknown): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof KeypairAuthConfigurationError)) throw error;
    throw new DemoEnvironmentError(`${variable}: ${error.message.replace(/^KeypairAuthModule: /, '')}`);
  }
}

/**
 * Reads PORT, HOST, HTTP_ADAPTER, DATABASE_URL, PUBLIC_ORIGIN, IDEMPOTENCY_LOCK_TTL_SECONDS and
 * WEB_BOT_AUTH_AGENTS (with WEB_BOT_AUTH_CA and WEB_BOT_AUTH_ALLOW_LOOPBACK);
 * a value the demo cannot use is a DemoEnvironmentError.
 */
export function readDemoEnvironment(env: NodeJS.ProcessEnv): DemoEnvironment {
  const portText = setting(env, 'PORT') ?? '3000';
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535))
    throw new DemoEnvironmentError(
      `PORT=${JSON.stringify(env.PORT)} is not a TCP port: set PORT to a number from 0 to 65535 (0 picks a free one), ` +
        'or leave it unset for 3000.',
    );
  const adapter = (setting(env, 'HTTP_ADAPTER') ?? 'express').toLowerCase();
  if (!(ADAPTERS as readonly string[]).includes(adapter))
    throw new DemoEnvironmentError(
      `HTTP_ADAPTER=${JSON.stringify(env.HTTP_ADAPTER)} is not an adapter the demo runs on: set it to express or fastify, ` +
        'or leave it unset for express.',
    );
  const databaseUrl = setting(env, 'DATABASE_URL') ?? DEFAULT_DATABASE_URL;
  let database: DatabaseLocation;
  try {
    database = parseDatabaseUrl(databaseUrl);
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new DemoEnvironmentError(`DATABASE_URL: ${error.message}`);
    throw error;
  }
  if (database.kind === 'sqlite') checkSqliteTarget(database.path);
  const origin = setting(env, 'PUBLIC_ORIGIN');
  checkOption(`PUBLIC_ORIGIN=${JSON.stringify(env.PUBLIC_ORIGIN)}`, () => validateOptions({ origin }));
  let webBotAuth: WebBotAuthOptions | undefined;
  try {
    webBotAuth = webBotAuthFromEnvironment(env);
  } catch (error) {
    throw new DemoEnvironmentError((error as Error).message);
  }
  if (webBotAuth && origin === undefined) {
    throw new DemoEnvironmentError(
      'WEB_BOT_AUTH_AGENTS needs PUBLIC_ORIGIN: an agent signs the authority and little else, so the demo must know ' +
        'its own from configuration, not from the Host header. Set PUBLIC_ORIGIN to the scheme and host:port agents ' +
        'call, e.g. PUBLIC_ORIGIN=http://127.0.0.1:3000.',
    );
  }
  checkOption(`WEB_BOT_AUTH_AGENTS=${JSON.stringify(env.WEB_BOT_AUTH_AGENTS)}`, () =>
    validateOptions({ origin, webBotAuth }),
  );
  checkOption(`IDEMPOTENCY_LOCK_TTL_SECONDS=${JSON.stringify(env.IDEMPOTENCY_LOCK_TTL_SECONDS)}`, () =>
    validateIdempotencyOptions(demoIdempotencyOptions(env)),
  );
  return {
    port,
    host: checkHost(setting(env, 'HOST') ?? '127.0.0.1'),
    origin,
    adapter: adapter as HttpAdapterName,
    databaseUrl,
    database,
    webBotAuth,
  };
}
