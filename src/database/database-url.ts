// Query parameters that carry a secret or point at one (pg reads ?password=, ?sslpassword=, ?sslkey=):
// one rule for every URL the CLI and the SDK print.
import { SECRET_PARAMETER } from '../client/redact-url';

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
  if (/^postgres(ql)?:\/\//i.test(url)) {
    if (readUrl(url) === undefined)
      throw new DatabaseUrlError(
        `database URL ${shown} cannot be read as a URL. Write postgres://USER:PASSWORD@HOST:PORT/DATABASE, ` +
          'percent-encoding any @ : / ? # % in the user name or password (e.g. %2F for /, %40 for @).',
      );
    return { kind: 'postgres', url };
  }
  if (/^sqlite:/i.test(url)) {
    const path = url.slice('sqlite:'.length);
    if (path === ':memory:') return { kind: 'sqlite-memory' };
    if (path.startsWith('//')) {
      // sqlite://data/app.sqlite would be /data/app.sqlite (the filesystem root), sqlite:///x is /x.
      const rest = path.replace(/^\/\/\/?/, '');
      const absolute = path.startsWith('///');
      if (rest.includes('@'))
        throw new DatabaseUrlError(
          `database URL ${shown} is not a form this understands: SQLite URLs have no "//" and no user or password. ` +
            'Write sqlite:PATH, e.g. sqlite:./data/keypair-auth.sqlite.',
        );
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
  const scheme = schemeOf(url);
  if (scheme !== undefined && /^postgres(ql)?$/i.test(scheme))
    throw new DatabaseUrlError(
      `database URL ${shown} is not a form this understands: a PostgreSQL URL starts with ${scheme}:// ` +
        '(two slashes), e.g. postgres://USER:PASSWORD@HOST:PORT/DATABASE.',
    );
  if (scheme === undefined && /\.(sqlite3?|db)$/i.test(url) && !url.includes('@'))
    throw new DatabaseUrlError(
      `database URL ${JSON.stringify(url)} has no scheme: for a SQLite file write sqlite:${url}.`,
    );
  throw new DatabaseUrlError(
    `database URL ${shown} is not supported` +
      (scheme ? ` (${scheme}: is not a database this package runs on)` : '') +
      `. Use ${SUPPORTED_DATABASE_URLS}.`,
  );
}

function schemeOf(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
}

/**
 * The URL as pg-connection-string reads it (spaces and stray % encoded; an empty host
 * before a `?host=` socket allowed), or undefined when it is no URL at all.
 */
function readUrl(url: string): { url: URL; dummyHost: boolean } | undefined {
  const text = / |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(url)
    ? encodeURI(url).replace(/%25(\d\d)/g, '%$1')
    : url;
  try {
    return { url: new URL(text), dummyHost: false };
  } catch {
    try {
      return { url: new URL(text.replace('@/', '@___DUMMY___/')), dummyHost: true };
    } catch {
      return undefined;
    }
  }
}

/**
 * The URL with its password and any secret query parameter (password, sslpassword,
 * sslkey, …) replaced by ***, for messages and logs. A sqlite: URL is shown as it is (a
 * path); a URL that cannot be read with a host is never echoed: only its scheme is shown (`postgres:***`).
 */
export function redactDatabaseUrl(url: string): string {
  if (/^sqlite:/i.test(url) && !/^sqlite:\/\/[^/]*@/i.test(url)) return url;
  const scheme = schemeOf(url);
  const read = readUrl(url);
  if (scheme === undefined || read === undefined || !url.slice(scheme.length + 1).startsWith('//'))
    return scheme === undefined ? '***' : `${scheme}:***`;
  const parsed = read.url;
  if (parsed.password !== '') parsed.password = '***';
  for (const name of [...new Set(parsed.searchParams.keys())])
    if (SECRET_PARAMETER.test(name)) parsed.searchParams.set(name, '***');
  const text = parsed.href;
  return read.dummyHost ? text.replace('@___DUMMY___/', '@/') : text;
}
