import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { decodeProtectedHeader } from 'jose';
import { buildCli } from '../../src/cli/cli-program';
import { DIST_CLI, freePort, REPO } from '../support/processes';
import { createTestDatabase, DATABASES } from '../support/test-database';

/** The built CLI (`npm run build` first) as a user runs it: version, help, database choice, key ids, pipes. */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.KEYPAIR_AUTH_CA_DIR;
  return new Promise((ok, fail) => {
    const child = spawn(file, args, { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', fail);
    child.once('close', (code) => ok({ code, stdout, stderr }));
  });
}

const cli = (args: string[], cwd: string, env?: Record<string, string>) =>
  run(process.execPath, [DIST_CLI, ...args], cwd, env);

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local server that records what it receives and answers `body` (`status`, 200 by default). */
async function recordingServer(
  body: string,
  status = 200,
): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: data });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    });
  });
  const port = await freePort();
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

describe('keypair-auth CLI behaviour', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-cli-behaviour-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--version prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'], dir)).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('describes every command, argument and option', () => {
    const missing: string[] = [];
    const walk = (command: Command, path: string): void => {
      if (!command.description()) missing.push(`${path}: command`);
      for (const option of command.options) if (!option.description) missing.push(`${path} ${option.flags}`);
      for (const argument of command.registeredArguments)
        if (!argument.description) missing.push(`${path} <${argument.name()}>`);
      for (const sub of command.commands) walk(sub, `${path} ${sub.name()}`);
    };
    walk(buildCli({ out: () => undefined, err: () => undefined }), 'keypair-auth');
    expect(missing).toEqual([]);
  });

  it('says which database it uses, and creates one only with --create', async () => {
    const url = `sqlite:${join(dir, 'new/db.sqlite')}`;
    const refused = await cli(['users', 'list'], dir, { DATABASE_URL: url });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`using database ${url} (from DATABASE_URL)\n`);
    expect(existsSync(join(dir, 'new'))).toBe(false);

    const empty = await cli(['users', 'list', '--database', url, '--create'], dir);
    expect([empty.code, empty.stdout]).toEqual([0, '']);
    expect(empty.stderr).toMatch(
      /^using database .* \(from --database\)\napplied \d+ migration\(s\).*\nno users in this database yet: add one with/,
    );
    const created = await cli(['users', 'add', 'alice', '--roles', 'reader', '--database', url], dir);
    expect(created.stderr).toBe(`using database ${url} (from --database)\n`);
    expect([created.code, JSON.parse(created.stdout)]).toEqual([
      0,
      expect.objectContaining({ username: 'alice' }),
    ]);

    const listed = await cli(['users', 'list'], dir, { DATABASE_URL: url });
    expect([listed.code, listed.stderr]).toEqual([0, `using database ${url} (from DATABASE_URL)\n`]);
    expect(JSON.parse(listed.stdout)).toMatchObject({ username: 'alice', roles: ['reader'], active: true });

    const def = await cli(['users', 'list'], dir);
    expect(def.stderr).toMatch(
      /^using database sqlite:\.\/data\/keypair-auth\.sqlite \(the default: set --database or DATABASE_URL/,
    );
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  const postgres = DATABASES.includes('postgres') ? it : it.skip;
  postgres('on PostgreSQL: refuses a database without keypair-auth tables unless --create', async () => {
    const db = await createTestDatabase('postgres');
    try {
      const refused = await cli(['users', 'list'], dir, { DATABASE_URL: db.url });
      expect([refused.code, refused.stderr]).toEqual([
        1,
        expect.stringContaining('has no keypair-auth tables'),
      ]);
      const created = await cli(['users', 'add', 'alice', '--create'], dir, { DATABASE_URL: db.url });
      expect([created.code, created.stderr]).toEqual([0, expect.stringMatching(/applied \d+ migration/)]);
      const listed = await cli(['users', 'list'], dir, { DATABASE_URL: db.url });
      expect([listed.code, JSON.parse(listed.stdout).username]).toEqual([0, 'alice']);
    } finally {
      await db.drop();
    }
  });

  it('set-active takes yes/no as well as true/false, and says what it did', async () => {
    const database = `sqlite:${join(dir, 'new/db.sqlite')}`;
    const off = await cli(['users', 'set-active', 'alice', 'no', '--database', database], dir);
    expect([off.code, off.stdout]).toEqual([0, '{"username":"alice","active":false}\n']);
    const on = await cli(['users', 'set-active', 'alice', 'TRUE', '--database', database], dir);
    expect([on.code, on.stdout]).toEqual([0, '{"username":"alice","active":true}\n']);
  });

  it('token, request and login send the keyId that keys add assigns by default', async () => {
    const database = `sqlite:${join(dir, 'new/db.sqlite')}`;
    expect((await cli(['keygen', '--type', 'p256', '--out', 'kid'], dir)).code).toBe(0);
    const added = await cli(['keys', 'add', 'alice', 'kid.pub', '--database', database], dir);
    expect(added.code).toBe(0);
    const keyId = added.stdout.trim();

    const token = await cli(['token', '--key', 'kid.key', '--username', 'alice'], dir);
    expect(decodeProtectedHeader(token.stdout.trim().slice('JWT '.length)).kid).toBe(keyId);

    const server = await recordingServer('{"challenge":"c"}');
    try {
      expect((await cli(['request', 'GET', `${server.url}/whoami`, '--key', 'kid.key'], dir)).code).toBe(0);
      expect(
        (await cli(['request', 'GET', `${server.url}/whoami`, '--key', 'kid.key', '--cavage'], dir)).code,
      ).toBe(0);
      await cli(['login', '--key', 'kid.key', '--url', server.url], dir);
      const [rfc9421, cavage, challenge] = server.seen;
      expect(rfc9421.headers['signature-input']).toContain(`keyid="${keyId}"`);
      expect(cavage.headers.signature).toContain(`keyId="${keyId}"`);
      expect([challenge.url, JSON.parse(challenge.body)]).toEqual(['/auth/challenge', { keyId }]);
    } finally {
      server.server.close();
    }
  });

  it('login to a server without the token API, or with a key it does not know, says what to check', async () => {
    expect((await cli(['keygen', '--out', 'lost'], dir)).code).toBe(0);
    const missing = await recordingServer('Cannot POST /auth/challenge', 404);
    const refusing = await recordingServer('{"code":"KEY_UNKNOWN_OR_SIGNATURE_INVALID","message":"no"}', 401);
    try {
      const notFound = await cli(['login', '--key', 'lost.key', '--url', missing.url], dir);
      expect([notFound.code, notFound.stderr]).toEqual([
        1,
        expect.stringContaining(
          `does ${missing.url} serve the token API (POST /auth/challenge, /auth/token)?`,
        ),
      ]);
      const unknown = await cli(['login', '--key', 'lost.key', '--url', refusing.url], dir);
      expect([unknown.code, unknown.stderr]).toEqual([
        1,
        expect.stringContaining('if the key was registered with --key-id, pass the same --key-id'),
      ]);
      const request = await cli(['request', 'GET', `${refusing.url}/whoami`, '--key', 'lost.key'], dir);
      expect([request.code, request.stderr]).toEqual([22, expect.stringContaining('pass the same --key-id')]);
    } finally {
      missing.server.close();
      refusing.server.close();
    }
  });

  it('an encrypted key takes its passphrase from --password-file or $KEYPAIR_AUTH_KEY_PASSWORD, off the command line (red-team F5)', async () => {
    const passphrase = 'TopSecretPw-5';
    const { privateKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(join(dir, 'enc.key'), privateKey, { mode: 0o600 });
    writeFileSync(join(dir, 'enc.pass'), `${passphrase}\n`, { mode: 0o600 });
    const base = ['token', '--key', 'enc.key', '--username', 'alice'];

    const fromFile = await cli([...base, '--password-file', 'enc.pass'], dir);
    expect([fromFile.code, fromFile.stdout]).toEqual([
      0,
      expect.stringMatching(/^JWT [\w-]+\.[\w-]+\.[\w-]+\n$/),
    ]);
    const fromEnv = await cli(base, dir, { KEYPAIR_AUTH_KEY_PASSWORD: passphrase });
    expect([fromEnv.code, fromEnv.stdout]).toEqual([0, expect.stringMatching(/^JWT /)]);
    const none = await cli(base, dir);
    expect([none.code, none.stderr]).toEqual([
      1,
      expect.stringContaining(
        'enc.key is encrypted: give its passphrase with --password-file FILE or $KEYPAIR_AUTH_KEY_PASSWORD',
      ),
    ]);
    for (const command of ['token', 'request', 'login']) {
      const help = await cli([command, '--help'], dir);
      expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/--password-file <file> .*KEYPAIR_AUTH_KEY_PASSWORD/);
      // --password VALUE is refused (G61), so help does not offer it.
      expect(help.stdout).not.toMatch(/--password </);
    }
  });

  it('RED CASE (red-team 2 F4): a passphrase file others can read is refused with chmod 600; a --key file others can read is used with a warning', async () => {
    const passphrase = 'TopSecretPw-4';
    const { privateKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(join(dir, 'shared.key'), privateKey);
    chmodSync(join(dir, 'shared.key'), 0o644);
    writeFileSync(join(dir, 'shared.pass'), `${passphrase}\n`);
    chmodSync(join(dir, 'shared.pass'), 0o644);
    const base = ['token', '--key', 'shared.key', '--username', 'alice'];

    const openPass = await cli([...base, '--password-file', 'shared.pass'], dir);
    expect([openPass.code, openPass.stdout, openPass.stderr]).toEqual([
      1,
      '',
      expect.stringContaining(
        'shared.pass is open to other users (mode 0644): a passphrase file must be private. Run chmod 600 shared.pass',
      ),
    ]);

    chmodSync(join(dir, 'shared.pass'), 0o600);
    const openKey = await cli([...base, '--password-file', 'shared.pass'], dir);
    expect([openKey.code, openKey.stdout, openKey.stderr]).toEqual([
      0,
      expect.stringMatching(/^JWT [\w-]+\.[\w-]+\.[\w-]+\n$/),
      'warning: shared.key can be read by other users (mode 0644): anyone who can read it can sign as you. Run chmod 600 shared.key.\n',
    ]);

    chmodSync(join(dir, 'shared.key'), 0o600);
    const closed = await cli([...base, '--password-file', 'shared.pass'], dir);
    expect([closed.code, closed.stderr]).toEqual([0, '']);
  });

  it('request --verify-with prints an error answer and exits 22 without checking it; an unsigned 2xx still fails (red-team F7)', async () => {
    const jwks = await recordingServer('{"keys":[]}');
    const refusing = await recordingServer('{"code":"AUTHENTICATION_REQUIRED","message":"sign in"}', 401);
    try {
      const key = ['--key', 'lost.key', '--verify-with', `${jwks.url}/.well-known/jwks.json`];
      if (!existsSync(join(dir, 'lost.key'))) await cli(['keygen', '--out', 'lost'], dir);
      const error = await cli(['request', 'GET', `${refusing.url}/whoami`, ...key], dir);
      expect([error.code, error.stdout, error.stderr]).toEqual([
        22,
        '{"code":"AUTHENTICATION_REQUIRED","message":"sign in"}\n',
        expect.stringContaining('HTTP 401: the response signature was not checked'),
      ]);
      const unsigned = await cli(['request', 'GET', `${jwks.url}/whoami`, ...key], dir);
      expect([unsigned.code, unsigned.stdout, unsigned.stderr]).toEqual([
        1,
        '',
        expect.stringMatching(/signature/),
      ]);
    } finally {
      jwks.server.close();
      refusing.server.close();
    }
  });

  it('the signing and CA commands run without TypeORM, a database driver or Nest installed', async () => {
    // Stands in for a client-only install: these modules cannot be loaded at all.
    const deny = join(dir, 'deny-database-modules.js');
    writeFileSync(
      deny,
      `const Module = require('module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/^(typeorm|better-sqlite3|pg|@nestjs\\/.*|reflect-metadata|@peculiar\\/x509)$/.test(request))
    throw new Error('this install has no ' + request);
  return load.call(this, request, ...rest);
};`,
    );
    const env = { NODE_OPTIONS: `--require ${deny}` };
    const server = await recordingServer('ok');
    try {
      const keygen = await cli(['keygen', '--out', 'lean'], dir, env);
      expect([keygen.code, keygen.stderr]).toEqual([0, expect.stringContaining('wrote lean.key')]);
      const token = await cli(['token', '--key', 'lean.key', '--username', 'alice'], dir, env);
      expect([token.code, token.stdout]).toEqual([0, expect.stringMatching(/^JWT /)]);
      const request = await cli(
        ['request', 'POST', `${server.url}/echo`, '--key', 'lean.key', '-d', '{}'],
        dir,
        env,
      );
      expect([request.code, request.stdout]).toEqual([0, 'ok\n']);
      const closed = await freePort();
      const login = await cli(
        ['login', '--key', 'lean.key', '--url', `http://127.0.0.1:${closed}`],
        dir,
        env,
      );
      expect(login.stderr).toMatch(/could not reach .*ECONNREFUSED/);
      expect((await cli(['--help'], dir, env)).code).toBe(0);
      // The same guard does bite: a database command needs the modules it was denied.
      const users = await cli(
        ['users', 'list', '--database', `sqlite:${join(dir, 'new/db.sqlite')}`],
        dir,
        env,
      );
      expect([users.code, users.stderr]).toEqual([1, expect.stringContaining('this install has no')]);
    } finally {
      server.server.close();
    }
  });

  it('ca commands load no database module; ca issue --overwrite replaces a certificate', async () => {
    const deny = join(dir, 'deny-typeorm.js');
    writeFileSync(
      deny,
      `const Module = require('module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/^(typeorm|better-sqlite3|pg|@nestjs\\/.*)$/.test(request)) throw new Error('this install has no ' + request);
  return load.call(this, request, ...rest);
};`,
    );
    const env = { NODE_OPTIONS: `--require ${deny}` };
    expect((await cli(['ca', 'init', '--dir', 'ca'], dir, env)).code).toBe(0);
    const first = await cli(['ca', 'issue', 'bob', '--dir', 'ca', '--no-p12'], dir, env);
    expect(first.code).toBe(0);
    const refused = await cli(['ca', 'issue', 'bob', '--dir', 'ca', '--no-p12'], dir, env);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      expect.stringContaining('pass --overwrite to replace it'),
    ]);
    const replaced = await cli(['ca', 'issue', 'bob', '--dir', 'ca', '--no-p12', '--overwrite'], dir, env);
    expect(replaced.code).toBe(0);
    const serial = (r: Run) => (JSON.parse(r.stdout) as { serialNumber: string }).serialNumber;
    expect(serial(replaced)).not.toBe(serial(first));
  });

  it('ca revoke takes the serials this CA issued, in any hex form, also of a replaced certificate; --force any other (red-team F6)', async () => {
    expect((await cli(['ca', 'init', '--dir', 'ca6'], dir)).code).toBe(0);
    const serial = (r: Run) => (JSON.parse(r.stdout) as { serialNumber: string }).serialNumber;
    const first = serial(await cli(['ca', 'issue', 'erin', '--dir', 'ca6', '--no-p12'], dir));
    const second = serial(await cli(['ca', 'issue', 'erin', '--dir', 'ca6', '--no-p12', '--overwrite'], dir));
    const revoked = (r: Run) => (JSON.parse(r.stdout) as { revoked: string[] }).revoked;

    const old = await cli(['ca', 'revoke', `00${first.toLowerCase()}`, '--dir', 'ca6'], dir);
    expect([old.code, revoked(old)]).toEqual([0, [first]]);
    const current = await cli(['ca', 'revoke', second, '--dir', 'ca6'], dir);
    expect([current.code, revoked(current)]).toEqual([0, [first, second]]);

    const unknown = await cli(['ca', 'revoke', 'ABCDEF0123', '--dir', 'ca6'], dir);
    expect([unknown.code, unknown.stdout, unknown.stderr]).toEqual([
      1,
      '',
      expect.stringContaining('no certificate with serial ABCDEF0123 was issued by the CA in ca6'),
    ]);
    const forced = await cli(['ca', 'revoke', 'ABCDEF0123', '--dir', 'ca6', '--force'], dir);
    expect([forced.code, revoked(forced)]).toEqual([0, [first, second, 'ABCDEF0123']]);
  });

  it('exits cleanly when the reader of its output goes away (| head)', async () => {
    expect((await cli(['keygen', '--out', 'pipe'], dir)).code).toBe(0);
    const big = 'x'.repeat(4 * 1024 * 1024);
    const server = await recordingServer(big);
    try {
      const script =
        `node ${JSON.stringify(DIST_CLI)} request GET ${server.url}/big --key pipe.key | head -c 10; ` +
        `node ${JSON.stringify(DIST_CLI)} request GET ${server.url}/big --key pipe.key -i | head -1`;
      const r = await run('bash', ['-o', 'pipefail', '-c', script], dir);
      expect(r).toEqual({ code: 0, stdout: 'xxxxxxxxxxHTTP 200 OK\n', stderr: '' });
    } finally {
      server.server.close();
    }
  });
});
