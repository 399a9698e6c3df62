import type { DataSource, EntityManager } from 'typeorm';

/**
 * TypeORM drivers that run every statement of a DataSource on one shared connection.
 * There, two transactions opened at once do not isolate each other: the second
 * BEGIN becomes a SAVEPOINT of the first, and a plain statement sent while one is
 * open joins it.
 */
const SINGLE_CONNECTION_DRIVERS = new Set([
  'better-sqlite3',
  'sqlite',
  'sqljs',
  'capacitor',
  'cordova',
  'expo',
  'nativescript',
  'react-native',
]);

const tails = new WeakMap<DataSource, Promise<void>>();

export function isSingleConnection(dataSource: DataSource): boolean {
  return SINGLE_CONNECTION_DRIVERS.has(dataSource.options.type);
}

/**
 * Runs `fn` alone among the other serialized work of this DataSource when the
 * driver has a single connection (SQLite); directly otherwise. The idempotency
 * store's statements and idempotent transactions both go through here, so on
 * SQLite none of them lands inside another's transaction.
 */
export async function serialized<T>(dataSource: DataSource, fn: () => Promise<T>): Promise<T> {
  if (!isSingleConnection(dataSource)) return fn();
  const previous = tails.get(dataSource) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  tails.set(
    dataSource,
    previous.then(() => mine),
  );
  await previous;
  try {
    return await fn();
  } finally {
    done();
  }
}

/** `dataSource.transaction(fn)`, serialized on single-connection drivers (see `serialized`). */
export function runInTransaction<T>(
  dataSource: DataSource,
  fn: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return serialized(dataSource, () => dataSource.transaction(fn));
}
