/**
 * The database URL forms the demo, the CLI and ormconfig.ts understand, parsed
 * without loading TypeORM or a driver (the CLI checks a URL before it opens anything).
 */
export type DatabaseLocation =
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'sqlite-memory' };

/** The demo's and the CLI's database when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/keypair-auth.sqlite';

export const SUPPORTED_DATABASE_URLS =
  'sqlite:PATH (a file, e.g. sqlite:./data/keypair-auth.sqlite or sqlite:/var/lib/app/auth.sqlite), ' +
  'sqlite::memory:, or postgres://USER:PASSWORD@HOST:PORT/DATABASE (postgresql:// too)';

/** A database URL this package does not understand; the message says which form to write. */
export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
}

/** Parses `sqlite:PATH`, `sqlite::memory:` or `postgres://…`; anything else is a DatabaseUrlError. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  const shown = JSON.stringify(redactDatabaseUrl(url));
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  if (/^sqlite:/i.test(url)) {
    const path = url.slice('sqlite:'.length);
    if (path === ':memory:') return { kind: 'sqlite-memory' };
    if (path.startsWith('//')) {
      // sqlite://data/app.sqlite would be /data/app.sqlite (the filesystem root), sqlite:///x is /x.
      const rest = path.replace(/^\/\/\/?/, '');
      const absolute = path.startsWith('///');
      throw new DatabaseUrlError(
        `database URL ${shown} is not a form this understands: SQLite URLs have no "//". ` +
          `Write sqlite:${absolute ? '/' : ''}${rest}` +
          (absolute
            ? ' (an absolute path).'
            : ` (relative to the current directory) or sqlite:/${rest} (absolute).`),
      );
    }
    if (path.trim() === '')
      throw new DatabaseUrlError(
        `database URL ${shown} names no file: write sqlite:PATH, e.g. sqlite:./data/keypair-auth.sqlite.`,
      );
    return { kind: 'sqlite', path };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  if (scheme === undefined && /\.(sqlite3?|db)$/i.test(url))
    throw new DatabaseUrlError(`database URL ${shown} has no scheme: for a SQLite file write sqlite:${url}.`);
  throw new DatabaseUrlError(
    `database URL ${shown} is not supported` +
      (scheme ? ` (${scheme}: is not a database this package runs on)` : '') +
      `. Use ${SUPPORTED_DATABASE_URLS}.`,
  );
}

/** The URL with any password replaced by ***, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
