import {
  DatabaseLocation,
  DatabaseUrlError,
  DEFAULT_DATABASE_URL,
  parseDatabaseUrl,
} from '../src/database/database-url';
import type { HttpAdapterName } from './create-demo-app';

/** The demo's settings, read from its environment and checked before it writes or opens anything. */
export interface DemoEnvironment {
  readonly port: number;
  readonly host: string;
  readonly adapter: HttpAdapterName;
  /** DATABASE_URL, or the default when it is unset or empty. */
  readonly databaseUrl: string;
  readonly database: DatabaseLocation;
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

/** Reads PORT, HOST, HTTP_ADAPTER and DATABASE_URL; a value the demo cannot use is a DemoEnvironmentError. */
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
  return {
    port,
    host: setting(env, 'HOST') ?? '127.0.0.1',
    adapter: adapter as HttpAdapterName,
    databaseUrl,
    database,
  };
}
