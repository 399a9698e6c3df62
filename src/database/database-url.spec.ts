import { DatabaseUrlError, parseDatabaseUrl, redactDatabaseUrl } from './database-url';

/** G40: a database password is printed as ***, in every place pg reads one from (red-team F1). */
describe('redactDatabaseUrl and the messages of parseDatabaseUrl never show a password', () => {
  const SECRET = 'Zq9-secret';
  const cases: [string, string][] = [
    [`postgres://bob:${SECRET}@db:5432/app`, 'postgres://bob:***@db:5432/app'],
    [`postgresql://bob@db/app?password=${SECRET}`, 'postgresql://bob@db/app?password=***'],
    [
      `postgres://db/app?user=bob&password=${SECRET}&sslmode=require`,
      'postgres://db/app?user=bob&password=***&sslmode=require',
    ],
    [
      `postgres://bob@db/app?sslpassword=${SECRET}&sslkey=/k/${SECRET}.pem`,
      'postgres://bob@db/app?sslpassword=***&sslkey=***',
    ],
    [`postgres://bob:p@${SECRET}@db/app`, 'postgres://bob:***@db/app'],
    [`postgres://bob:Pa/${SECRET}@db/app`, 'postgres:***'],
    [`postgres://bob:Pa#${SECRET}@db/app`, 'postgres:***'],
    [`postgres:/bob:${SECRET}@db/app`, 'postgres:***'],
    [
      `postgres://bob:${SECRET}@/app?host=/var/run/postgresql`,
      'postgres://bob:***@/app?host=/var/run/postgresql',
    ],
    [`mysql://root:${SECRET}@db/app`, 'mysql://root:***@db/app'],
    [`bob:${SECRET}@db/app.db`, 'bob:***'],
    [`sqlite://bob:${SECRET}@db/app`, 'sqlite://bob:***@db/app'],
    ['sqlite:./data/app.sqlite', 'sqlite:./data/app.sqlite'],
  ];

  it.each(cases)('%s is shown as %s', (url, shown) => {
    expect(redactDatabaseUrl(url)).toBe(shown);
  });

  it.each(cases.filter(([url]) => url.includes(SECRET)))('parsing %s never echoes the password', (url) => {
    let message = '';
    try {
      parseDatabaseUrl(url);
    } catch (error) {
      expect(error).toBeInstanceOf(DatabaseUrlError);
      message = (error as Error).message;
    }
    expect(message).not.toContain(SECRET);
  });

  it('refuses a PostgreSQL URL pg cannot read, with the form to write', () => {
    expect(() => parseDatabaseUrl(`postgres://bob:Pa/${SECRET}@db/app`)).toThrow(
      /"postgres:\*\*\*" cannot be read as a URL\. Write postgres:\/\/USER:PASSWORD@HOST:PORT\/DATABASE, percent-encoding/,
    );
    expect(() => parseDatabaseUrl(`postgres:/bob:${SECRET}@db/app`)).toThrow(
      /starts with postgres:\/\/ \(two slashes\)/,
    );
    expect(parseDatabaseUrl(`postgres://bob:p@${SECRET}@db/app`)).toEqual({
      kind: 'postgres',
      url: `postgres://bob:p@${SECRET}@db/app`,
    });
  });
});
