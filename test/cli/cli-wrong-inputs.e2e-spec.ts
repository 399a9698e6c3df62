import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DIST_CLI, freePort } from '../support/processes';

/**
 * Every command, given wrong input, as a user types it: the built CLI (`npm run build`
 * first) in a fresh empty directory. Each row must exit non-zero, say on stderr what to
 * do instead (the fragment), print no stack trace, and create no file: neither in its
 * directory, nor in the shared fixtures, nor where a sqlite: URL points.
 */
interface Row {
  /** What the user got wrong. */
  readonly name: string;
  readonly args: readonly string[];
  /** The fix the message must name. */
  readonly says: RegExp;
  readonly env?: Record<string, string>;
  /** Files to put in the fresh directory first (relative path → content; a trailing / makes a directory). */
  readonly files?: Record<string, string>;
  /** File modes to set on those files (relative path → mode). */
  readonly modes?: Record<string, number>;
}

const FIX = '<fixtures>';
const PORT = '<closed-port>';
const ROOT_DB = '/kpa-should-not-exist.sqlite';

const rows: Row[] = [
  // users
  {
    name: 'set-active with a word that is not true/false',
    args: ['users', 'set-active', 'alice', 'maybe'],
    says: /argument 'active'.*Write true or false/,
  },
  { name: 'an upper-case username', args: ['users', 'add', 'Alice'], says: /Usernames are .*lowercase/ },
  {
    name: 'a role with a space',
    args: ['users', 'add', 'bob', '--roles', 'read er'],
    says: /"read er" is not a role name/,
  },
  {
    name: 'an empty role list',
    args: ['users', 'add', 'bob', '--roles', ','],
    says: /Give comma-separated role names/,
  },
  { name: 'a missing username', args: ['users', 'add'], says: /missing required argument 'username'/ },
  {
    name: 'no database at the default path',
    args: ['users', 'list'],
    says: /no database at \.\/data\/keypair-auth\.sqlite.*pass --create/,
  },
  {
    name: 'DATABASE_URL written sqlite://',
    args: ['users', 'list'],
    env: { DATABASE_URL: 'sqlite://data/app.sqlite' },
    says: /DATABASE_URL: .*Write sqlite:data\/app\.sqlite/,
  },
  {
    name: 'a mysql:// DATABASE_URL',
    args: ['users', 'add', 'bob'],
    env: { DATABASE_URL: 'mysql://root@localhost/app' },
    says: /mysql: is not a database this package runs on.*sqlite:PATH.*postgres:\/\//,
  },
  {
    name: 'a path without sqlite:',
    args: ['users', 'list', '--database', './data/app.sqlite'],
    says: /write sqlite:\.\/data\/app\.sqlite/,
  },
  {
    name: 'sqlite::memory: (gone when the command ends)',
    args: ['users', 'list'],
    env: { DATABASE_URL: 'sqlite::memory:' },
    says: /gone when the command ends/,
  },
  {
    name: 'a database file at the filesystem root (--database)',
    args: ['users', 'add', 'bob', '--database', `sqlite:${ROOT_DB}`],
    says: /no database at \/kpa-should-not-exist\.sqlite.*--create/,
  },
  {
    name: 'a database file at the filesystem root (DATABASE_URL)',
    args: ['keys', 'list', 'alice'],
    env: { DATABASE_URL: `sqlite:${ROOT_DB}` },
    says: /no database at \/kpa-should-not-exist\.sqlite/,
  },
  {
    name: 'an empty file that is not a keypair-auth database',
    args: ['users', 'list'],
    env: { DATABASE_URL: 'sqlite:empty.sqlite' },
    files: { 'empty.sqlite': '' },
    says: /has no keypair-auth tables.*--create/,
  },
  {
    name: 'a text file as the database',
    args: ['users', 'list', '--database', 'sqlite:notes.txt'],
    files: { 'notes.txt': 'hello, this is not a database\n'.repeat(40) },
    says: /notes\.txt is not a SQLite database/,
  },
  {
    name: 'a directory as the database',
    args: ['users', 'list', '--database', 'sqlite:data'],
    files: { 'data/': '' },
    says: /data is not a file/,
  },
  {
    name: 'set-active for an unknown user',
    args: ['users', 'set-active', 'nobody', 'true'],
    env: { DATABASE_URL: `sqlite:${FIX}/db.sqlite` },
    says: /no user "nobody".*users add nobody/,
  },
  {
    name: 'a PostgreSQL server that is not running (password not shown)',
    args: ['users', 'list', '--database', `postgres://kpa:s3cret-pw@127.0.0.1:${PORT}/kpa`],
    says: /could not open the database postgres:\/\/kpa:\*\*\*@127\.0\.0\.1:\d+\/kpa: connection refused/,
  },
  // Red-team F1 (G40 "a PostgreSQL password is printed as ***"): every form pg reads a password
  // from; the harness asserts s3cret-pw appears on neither stdout nor stderr.
  {
    name: 'a ?password= in a PostgreSQL URL (not shown)',
    args: ['users', 'list', '--database', `postgresql://bob@127.0.0.1:${PORT}/kpa?password=s3cret-pw`],
    says: /could not open the database postgresql:\/\/bob@127\.0\.0\.1:\d+\/kpa\?password=\*\*\*: connection refused/,
  },
  {
    name: 'a ?password= and ?sslpassword= in DATABASE_URL (not shown)',
    args: ['users', 'list'],
    env: {
      DATABASE_URL: `postgres://127.0.0.1:${PORT}/kpa?user=bob&password=s3cret-pw&sslpassword=s3cret-pw`,
    },
    says: /using database postgres:\/\/127\.0\.0\.1:\d+\/kpa\?user=bob&password=\*\*\*&sslpassword=\*\*\* /,
  },
  {
    name: 'a password with an unencoded @ (not shown)',
    args: ['users', 'list', '--database', `postgres://bob:p@s3cret-pw@127.0.0.1:${PORT}/kpa`],
    says: /could not open the database postgres:\/\/bob:\*\*\*@127\.0\.0\.1:\d+\/kpa: connection refused/,
  },
  {
    name: 'a password with an unencoded / (not shown)',
    args: ['users', 'list', '--database', `postgres://bob:Pa/s3cret-pw@127.0.0.1:${PORT}/kpa`],
    says: /"postgres:\*\*\*" cannot be read as a URL.*percent-encoding any @ : \/ \? # %/,
  },
  {
    name: 'a PostgreSQL URL with one slash (not shown)',
    args: ['users', 'list'],
    env: { DATABASE_URL: `postgres:/bob:s3cret-pw@127.0.0.1:${PORT}/kpa` },
    says: /DATABASE_URL: database URL "postgres:\*\*\*" .*starts with postgres:\/\/ \(two slashes\)/,
  },
  // keys
  {
    name: '--expires yesterday',
    args: ['keys', 'add', 'alice', `${FIX}/alice.pub`, '--expires', 'yesterday'],
    says: /Write an ISO 8601 date or date-time in the future, e\.g\. 2030-01-31/,
  },
  {
    name: '--expires in the past',
    args: ['keys', 'add', 'alice', `${FIX}/alice.pub`, '--expires', '2020-01-01T00:00:00Z'],
    says: /That time has passed: give a date or date-time in the future/,
  },
  {
    name: '--expires on a day the calendar does not have (red-team F3)',
    args: [
      'keys',
      'add',
      'alice',
      `${FIX}/alice.pub`,
      '--expires',
      '2030-02-31',
      '--database',
      `sqlite:${FIX}/db.sqlite`,
    ],
    says: /2030-02-31 is not a real date and time \(check the length of the month/,
  },
  {
    name: '--expires at hour 24 (read as the next day)',
    args: ['keys', 'add', 'alice', `${FIX}/alice.pub`, '--expires', '2030-04-31T24:00:00Z'],
    says: /2030-04-31T24:00:00Z is not a real date and time/,
  },
  {
    name: 'a key file that does not exist',
    args: ['keys', 'add', 'alice', 'alice.pub'],
    says: /There is no file alice\.pub/,
  },
  {
    name: 'an unknown --alg',
    args: ['keys', 'add', 'alice', `${FIX}/alice.pub`, '--alg', 'md5'],
    says: /Write one of ed25519.*rsa-v1_5-sha256/,
  },
  {
    name: 'a keyId with a space',
    args: ['keys', 'add', 'alice', `${FIX}/alice.pub`, '--key-id', 'my laptop'],
    says: /keyId is 1-255 printable ASCII characters without spaces/,
  },
  {
    name: 'a key for an unknown user',
    args: ['keys', 'add', 'nobody', `${FIX}/alice.pub`],
    env: { DATABASE_URL: `sqlite:${FIX}/db.sqlite` },
    says: /no user "nobody".*users add nobody/,
  },
  {
    name: 'a private key given to keys add',
    args: ['keys', 'add', 'alice', `${FIX}/alice.key`],
    env: { DATABASE_URL: `sqlite:${FIX}/db.sqlite` },
    says: /private/i,
  },
  {
    name: 'a JWK file that is not JSON',
    args: ['keys', 'add', 'alice', 'key.jwk', '--database', `sqlite:${FIX}/db.sqlite`],
    files: { 'key.jwk': '{ "kty": "OKP", ' },
    says: /key\.jwk starts with "\{" but is not valid JSON/,
  },
  {
    name: 'revoking an unknown keyId',
    args: ['keys', 'revoke', 'no-such-key'],
    env: { DATABASE_URL: `sqlite:${FIX}/db.sqlite` },
    says: /no key "no-such-key".*keys list/,
  },
  // keygen
  {
    name: 'an unknown key type',
    args: ['keygen', '--type', 'dsa', '--out', 'k'],
    says: /Write one of ed25519, p256, p384, rsa/,
  },
  {
    name: 'keygen over an existing key',
    args: ['keygen', '--out', 'k'],
    files: { 'k.key': 'mine' },
    says: /k\.key already exists: choose another --out/,
  },
  {
    name: 'keygen into a missing directory',
    args: ['keygen', '--out', 'keys/k'],
    says: /no directory keys: create it first/,
  },
  {
    name: 'keygen --out a directory (red-team F4: would write keys/.key)',
    args: ['keygen', '--out', 'keys/'],
    files: { 'keys/': '' },
    says: /--out "keys\/" has no NAME part/,
  },
  {
    name: 'keygen --out an empty name (red-team F4: would write .key)',
    args: ['keygen', '--out', ''],
    says: /--out "" has no NAME part/,
  },
  { name: 'keygen without --out', args: ['keygen'], says: /required option '--out <name>' not specified/ },
  // token
  {
    name: 'a public key as --key',
    args: ['token', '--key', `${FIX}/alice.pub`, '--username', 'alice'],
    says: /alice\.pub holds a public key: --key takes the private key/,
  },
  {
    name: 'a missing private key file',
    args: ['token', '--key', 'alice.key', '--username', 'alice'],
    says: /There is no file alice\.key: give the path of a private key/,
  },
  {
    name: 'a username with a space',
    args: ['token', '--key', `${FIX}/alice.key`, '--username', 'alice smith'],
    says: /Usernames are/,
  },
  {
    name: 'a --password-file that does not exist',
    args: ['token', '--key', `${FIX}/alice.key`, '--username', 'alice', '--password-file', 'pass.txt'],
    says: /--password-file names no file that exists .*: it takes the path of a file holding the key's passphrase on its first line, or set \$KEYPAIR_AUTH_PASSPHRASE/,
  },
  {
    name: 'RED CASE (red-team 5 R1b): the passphrase typed where --passphrase-file wants the file name is not repeated',
    args: ['token', '--key', `${FIX}/alice.key`, '--username', 'alice', '--passphrase-file', 's3cret-pw'],
    says: /^error: --passphrase-file names no file that exists \(the name is not repeated here, in case it was the passphrase itself\)/,
  },
  {
    name: 'RED CASE (red-team 5 R1b): a --passphrase-file that is a directory is refused without its name',
    args: ['token', '--key', `${FIX}/alice.key`, '--username', 'alice', '--passphrase-file', 's3cret-pw'],
    files: { 's3cret-pw/': '' },
    says: /^error: --passphrase-file does not name a regular file \(a directory, FIFO or device\)/,
  },
  {
    name: 'RED CASE (red-team 5 R1a): an unknown option written with its value (--passphrase=VALUE) is named without the value',
    args: ['token', '--key', `${FIX}/alice.key`, '--username', 'alice', '--passphrase=s3cret-pw'],
    says: /^error: unknown option '--passphrase=…'/,
  },
  {
    name: 'RED CASE (red-team 5 R1a): an unknown short option with its value attached (-pVALUE) is named without the value',
    args: ['token', '--key', `${FIX}/alice.key`, '--username', 'alice', '-ps3cret-pw'],
    says: /^error: unknown option '-p…'/,
  },
  {
    name: 'RED CASE (red-team 5 R1a): an invalid -H header is not echoed (it may carry a credential)',
    args: [
      'request',
      'GET',
      'http://127.0.0.1:9/',
      '--key',
      `${FIX}/alice.key`,
      '-H',
      'Authorization Bearer s3cret-pw',
    ],
    says: /^error: option '-H, --header <header>' argument '…' is invalid\. Write a header as "Name: value"/,
  },
  {
    name: 'RED CASE (red-team 5 R1a): an invalid URL argument with a password in it is not echoed',
    args: ['request', 'GET', 'ftp://bob:s3cret-pw@127.0.0.1/', '--key', `${FIX}/alice.key`],
    says: /^error: command-argument value '…' is invalid for argument 'url'\. Write an absolute http:\/\/ or https:\/\/ URL/,
  },
  {
    name: 'RED CASE (red-team 5 R1a): an invalid login --url with a password in it is not echoed',
    args: ['login', '--url', 'ftp://bob:s3cret-pw@127.0.0.1/', '--key', `${FIX}/alice.key`],
    says: /^error: option '--url <base>' argument '…' is invalid\. Write an absolute http:\/\/ or https:\/\/ URL/,
  },
  {
    name: 'RED CASE (red-team 5 R2): --password is refused with --agent too',
    args: ['token', '--agent', '--username', 'alice', '--password', 's3cret-pw'],
    env: { SSH_AUTH_SOCK: '/nonexistent/agent.sock' },
    says: /^error: --password is not accepted: a passphrase on the command line can be read by every local user/,
  },
  {
    name: 'G61: a passphrase on the command line (--password) is refused, naming --passphrase-file',
    args: ['token', '--key', `${FIX}/alice.key`, '--username', 'alice', '--password', 's3cret-pw'],
    says: /--password is not accepted: a passphrase on the command line can be read by every local user \(ps, \/proc\).*--passphrase-file FILE, or set \$KEYPAIR_AUTH_PASSPHRASE/,
  },
  {
    name: '--password with --password-file is refused too, for the same reason',
    args: [
      'token',
      '--key',
      `${FIX}/alice.key`,
      '--username',
      'alice',
      '--password',
      'x',
      '--password-file',
      'p',
    ],
    says: /--password is not accepted/,
  },
  {
    name: 'RED CASE (red-team 2 F4): a --password-file others can read (0644)',
    args: ['token', '--key', `${FIX}/alice.key`, '--username', 'alice', '--password-file', 'pw.txt'],
    files: { 'pw.txt': 'hunter2secret\n' },
    modes: { 'pw.txt': 0o644 },
    says: /pw\.txt is open to other users \(mode 0644\): a passphrase file must be private\. Run chmod 600 pw\.txt/,
  },
  {
    name: 'RED CASE (red-team 2 F4): a --password-file its group can read (0640), on login',
    args: [
      'login',
      '--key',
      `${FIX}/alice.key`,
      '--url',
      `http://127.0.0.1:${PORT}`,
      '--password-file',
      'pw.txt',
    ],
    files: { 'pw.txt': 'hunter2secret\n' },
    modes: { 'pw.txt': 0o640 },
    says: /pw\.txt is open to other users \(mode 0640\).*Run chmod 600 pw\.txt/,
  },
  // request
  {
    name: 'RED CASE (red-team 2 F9): a URL with a password in it (not shown; refused before the key file is read)',
    args: ['request', 'GET', `http://admin:s3cret-pw@127.0.0.1:${PORT}/whoami`, '--key', `${FIX}/alice.pub`],
    says: /the URL http:\/\/\*\*\*@127\.0\.0\.1:\d+\/whoami has a user name or password in it.*Remove the USER:PASSWORD@ part/,
  },
  {
    name: 'RED CASE (red-team 2 F9): a --verify-with URL with a password in it (not shown)',
    args: [
      'request',
      'GET',
      `http://127.0.0.1:${PORT}/whoami`,
      '--key',
      `${FIX}/alice.key`,
      '--verify-with',
      `http://jwks:s3cret-pw@127.0.0.1:${PORT}/.well-known/jwks.json`,
    ],
    says: /the URL http:\/\/\*\*\*@127\.0\.0\.1:\d+\/\.well-known\/jwks\.json has a user name or password in it/,
  },
  {
    name: 'RED CASE (red-team 2 F9): an ?access_token= in the URL of a server that is not running (not shown)',
    args: [
      'request',
      'GET',
      `http://127.0.0.1:${PORT}/whoami?user=alice&access_token=s3cret-pw`,
      '--key',
      `${FIX}/alice.key`,
    ],
    says: /could not reach http:\/\/127\.0\.0\.1:\d+\/whoami\?user=alice&access_token=\*\*\*: connection refused/,
  },
  {
    name: 'RED CASE (red-team 3 F4): access-token, private_token, jwt, X-Amz-Signature, client_assertion, x-api-key in the URL of a server that is not running (not shown)',
    args: [
      'request',
      'GET',
      `http://127.0.0.1:${PORT}/x?page=2&access-token=S1&private_token=S2&jwt=S3&X-Amz-Signature=S4&client_assertion=S5&x-api-key=S6&Sig=S7&Credential=S8`,
      '--key',
      `${FIX}/alice.key`,
    ],
    says: /could not reach http:\/\/127\.0\.0\.1:\d+\/x\?page=2&access-token=\*\*\*&private_token=\*\*\*&jwt=\*\*\*&X-Amz-Signature=\*\*\*&client_assertion=\*\*\*&x-api-key=\*\*\*&Sig=\*\*\*&Credential=\*\*\*: connection refused/,
  },
  {
    name: 'a server that is not running',
    args: ['request', 'GET', `http://127.0.0.1:${PORT}/whoami`, '--key', `${FIX}/alice.key`],
    says: /could not reach http:\/\/127\.0\.0\.1:\d+\/whoami: connection refused \(ECONNREFUSED\) — is the server running\?/,
  },
  {
    name: 'the URL before the method',
    args: ['request', 'http://127.0.0.1:3000/whoami', 'GET', '--key', `${FIX}/alice.key`],
    says: /The method comes first/,
  },
  {
    name: 'a URL without http://',
    args: ['request', 'GET', '127.0.0.1:3000/whoami', '--key', `${FIX}/alice.key`],
    says: /Write an absolute http:\/\/ or https:\/\/ URL/,
  },
  {
    name: 'a header without a colon',
    args: [
      'request',
      'GET',
      'http://127.0.0.1:3000/',
      '--key',
      `${FIX}/alice.key`,
      '-H',
      'Idempotency-Key 42',
    ],
    says: /Write a header as "Name: value"/,
  },
  {
    name: 'an unknown --alg on request',
    args: ['request', 'GET', 'http://127.0.0.1:3000/', '--key', `${FIX}/alice.key`, '--alg', 'hs256'],
    says: /Write one of ed25519/,
  },
  {
    name: 'a --verify-with that is not a URL',
    args: [
      'request',
      'GET',
      'http://127.0.0.1:3000/',
      '--key',
      `${FIX}/alice.key`,
      '--verify-with',
      'jwks.json',
    ],
    says: /Write an absolute http:\/\/ or https:\/\/ URL/,
  },
  // login
  {
    name: 'login to a server that is not running',
    args: ['login', '--key', `${FIX}/alice.key`, '--url', `http://127.0.0.1:${PORT}`],
    says: /could not reach http:\/\/127\.0\.0\.1:\d+\/auth\/challenge: connection refused \(ECONNREFUSED\)/,
  },
  {
    name: 'login --url without a scheme',
    args: ['login', '--key', `${FIX}/alice.key`, '--url', 'localhost:3000'],
    says: /Write an absolute http:\/\/ or https:\/\/ URL/,
  },
  {
    name: 'RED CASE (red-team 2 F9): login --url with a password in it (not shown)',
    args: ['login', '--key', `${FIX}/alice.key`, '--url', `http://admin:s3cret-pw@127.0.0.1:${PORT}`],
    says: /the URL http:\/\/\*\*\*@127\.0\.0\.1:\d+\/ has a user name or password in it/,
  },
  {
    name: 'login without --url',
    args: ['login', '--key', `${FIX}/alice.key`],
    says: /required option '--url <base>' not specified/,
  },
  // certs
  {
    name: 'a certificate file that does not exist',
    args: ['certs', 'add', 'alice', 'cert.pem'],
    says: /There is no file cert\.pem: give the path of a certificate/,
  },
  {
    name: 'a fingerprint that is not hex',
    args: ['certs', 'revoke', 'abc'],
    says: /fingerprint as a SHA-256 in hex \(64 digits/,
  },
  {
    name: 'certs list for an unknown user',
    args: ['certs', 'list', 'nobody', '--database', `sqlite:${FIX}/db.sqlite`],
    says: /no user "nobody"/,
  },
  // ca
  {
    name: 'ca issue without a CA',
    args: ['ca', 'issue', 'bob'],
    says: /there is no CA in \.\/keypair-auth-ca: create one with `keypair-auth ca init/,
  },
  {
    name: 'a certificate name with a space',
    args: ['ca', 'issue', 'bob smith'],
    says: /Write a name of 1-64 letters/,
  },
  {
    name: '--hours that is not a number',
    args: ['ca', 'issue', 'bob', '--hours', 'twelve'],
    says: /Write a positive number of hours/,
  },
  {
    name: '--hours 0',
    args: ['ca', 'issue', 'bob', '--hours', '0'],
    says: /Write a positive number of hours/,
  },
  {
    name: 'an --email without @',
    args: ['ca', 'issue', 'bob', '--email', 'bob'],
    says: /Write an email address/,
  },
  {
    name: 'RED CASE (red-team 2 F7): ca issue with no openssl on PATH (a .p12 is asked for)',
    args: ['ca', 'issue', 'bob', '--dir', `${FIX}/ca`],
    env: { PATH: '/kpa-no-openssl-here' },
    says: /openssl is needed for the \.p12 bundle: install it .*or pass --no-p12/,
  },
  {
    name: 'ca issue over an existing certificate',
    args: ['ca', 'issue', 'alice', '--dir', `${FIX}/ca`, '--no-p12'],
    says: /a certificate named alice already exists .*pass --overwrite to replace it/,
  },
  {
    name: 'ca server for a bad host',
    args: ['ca', 'server', 'bad_host!'],
    says: /Write a DNS name or an IP address/,
  },
  {
    name: 'ca revoke with a serial that is not hex',
    args: ['ca', 'revoke', 'xyz'],
    says: /Write the serial number in hex/,
  },
  {
    name: 'ca revoke of a serial the CA never issued (red-team F6)',
    args: ['ca', 'revoke', '7A3C0FFEE', '--dir', `${FIX}/ca`],
    says: /no certificate with serial 7A3C0FFEE was issued by the CA in .*check the serialNumber .*pass --force/,
  },
  {
    name: 'ca init over an existing CA',
    args: ['ca', 'init', '--dir', `${FIX}/ca`],
    says: /a CA already exists in .*choose another --dir/,
  },
  // the program
  { name: 'an unknown command', args: ['frob'], says: /unknown command 'frob'/ },
  { name: 'an unknown option', args: ['users', 'list', '--verbose'], says: /unknown option '--verbose'/ },
];

/** Every path under `dir` (directories end in /), sorted: the file-system state a row must not change. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => {
      const path = join(prefix, e.name);
      return e.isDirectory() ? [`${path}/`, ...tree(dir, path)] : [path];
    })
    .sort();
}

function runCli(args: readonly string[], cwd: string, env: Record<string, string>) {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.KEYPAIR_AUTH_CA_DIR;
  delete base.KEYPAIR_AUTH_DEBUG;
  const r = spawnSync(process.execPath, [DIST_CLI, ...args], {
    cwd,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('keypair-auth CLI: wrong inputs fail with the fix, and create nothing', () => {
  let fixtures: string;
  let closedPort: number;
  const fill = (s: string) => s.replaceAll(FIX, fixtures).replaceAll(PORT, String(closedPort));

  beforeAll(async () => {
    fixtures = mkdtempSync(join(tmpdir(), 'kpa-wrong-fixtures-'));
    closedPort = await freePort();
    const setup = (...args: string[]) => {
      const r = runCli(args, fixtures, {});
      if (r.code !== 0) throw new Error(`setup ${args.join(' ')} failed: ${r.stderr}`);
    };
    setup('keygen', '--out', 'alice');
    setup('users', 'add', 'alice', '--database', 'sqlite:db.sqlite', '--create');
    setup('ca', 'init', '--dir', 'ca');
    setup('ca', 'issue', 'alice', '--dir', 'ca', '--no-p12');
  });
  afterAll(() => rmSync(fixtures, { recursive: true, force: true }));

  it('has a row for every command', () => {
    const commands = new Set(
      rows.map((r) =>
        (['users', 'keys', 'certs', 'ca'].includes(r.args[0]) ? r.args.slice(0, 2) : r.args.slice(0, 1)).join(
          ' ',
        ),
      ),
    );
    expect([...commands].sort()).toEqual(
      expect.arrayContaining([
        'ca init',
        'ca issue',
        'ca revoke',
        'ca server',
        'certs add',
        'certs list',
        'certs revoke',
        'keygen',
        'keys add',
        'keys list',
        'keys revoke',
        'login',
        'request',
        'token',
        'users add',
        'users list',
        'users set-active',
      ]),
    );
  });

  it.each(rows.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    const cwd = mkdtempSync(join(tmpdir(), 'kpa-wrong-'));
    try {
      for (const [path, content] of Object.entries(row.files ?? {})) {
        if (path.endsWith('/')) mkdirSync(join(cwd, path), { recursive: true });
        else writeFileSync(join(cwd, path), content);
      }
      for (const [path, mode] of Object.entries(row.modes ?? {})) chmodSync(join(cwd, path), mode);
      const env = Object.fromEntries(Object.entries(row.env ?? {}).map(([k, v]) => [k, fill(v)]));
      const args = row.args.map(fill);
      const sqliteTargets = [...args, ...Object.values(env)]
        .filter((a) => a.startsWith('sqlite:') && !a.startsWith('sqlite::'))
        .map((a) => a.slice('sqlite:'.length).replace(/^\/\/+/, '/'))
        .map((p) => (isAbsolute(p) ? p : resolve(cwd, p)));
      const absent = sqliteTargets.filter((p) => !existsSync(p));
      const before = { cwd: tree(cwd), fixtures: tree(fixtures) };

      const r = runCli(args, cwd, env);

      expect({ code: r.code === 0 ? 0 : 'non-zero', says: r.stderr }).toEqual({
        code: 'non-zero',
        says: expect.stringMatching(row.says),
      });
      expect([1, 2]).toContain(r.code);
      expect(r.stderr).toMatch(/^(using database .*\n)?error: /);
      expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // no stack trace
      expect(r.stderr).not.toMatch(/\b(TypeError|ReferenceError|QueryFailedError|SqliteError)\b/);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toContain('s3cret-pw'); // a database password is never echoed
      expect(r.stdout).not.toContain('s3cret-pw');
      expect({ cwd: tree(cwd), fixtures: tree(fixtures) }).toEqual(before);
      for (const path of absent) expect(existsSync(path)).toBe(false);
      expect(existsSync(ROOT_DB)).toBe(false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('keypair-auth CLI: a JWK Set URL that answers an error', () => {
  it('RED CASE (red-team 3 F4): --verify-with …?access_token= answering 401 does not show the token', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kpa-jwks-401-'));
    const server = createServer((req, res) => {
      res.writeHead(req.url?.startsWith('/jwks') ? 401 : 200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(runCli(['keygen', '--out', 'alice'], cwd, {}).code).toBe(0);
      const r = await new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = spawn(
          process.execPath,
          [
            DIST_CLI,
            'request',
            'GET',
            `http://127.0.0.1:${port}/x`,
            '--key',
            'alice.key',
            '--verify-with',
            `http://127.0.0.1:${port}/jwks?access_token=SECRET_JWKS&X-Amz-Signature=SECRET_SIG`,
          ],
          { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => done({ code, stderr }));
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(
        /cannot load server keys from http:\/\/127\.0\.0\.1:\d+\/jwks\?access_token=\*\*\*&X-Amz-Signature=\*\*\*: 401/,
      );
      expect(r.stderr).not.toContain('SECRET_');
    } finally {
      server.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
