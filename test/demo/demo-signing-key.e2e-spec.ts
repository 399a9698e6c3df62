import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/keys/formats/key-generation';
import { DIST_DEMO, startDemo } from '../support/processes';

/** The demo's server key: a development key made on first start, reused after, never made in production. */
describe('demo server key', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kpa-demo-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const jwks = async (url: string): Promise<{ keys: Record<string, string>[] }> =>
    (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] };

  it('is created next to the SQLite file on first start (mode 0600), logged as a development key, and reused', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'db/demo.sqlite')}` };
    const file = join(dir, 'db/demo-server-signing.key');
    const first = await startDemo(env);
    let published: Record<string, string>;
    try {
      expect(first.output()).toMatch(/DEVELOPMENT key, created in .*demo-server-signing\.key/);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      [published] = (await jwks(first.url)).keys;
      expect(published).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(published.kid).toMatch(/^server-[\w-]{16}$/);
      expect(published).not.toHaveProperty('d');
    } finally {
      await first.stop();
    }
    const second = await startDemo(env);
    try {
      expect(second.output()).toMatch(/DEVELOPMENT key, reused in /);
      expect((await jwks(second.url)).keys).toEqual([published]);
    } finally {
      await second.stop();
    }
  });

  it.each(['Production', 'PRODUCTION', ' production '])(
    'RED CASE (red-team 3 minor): NODE_ENV=%j is production too: no development key is created',
    (nodeEnv) => {
      const run = spawnSync(process.execPath, [DIST_DEMO], {
        cwd: dir,
        env: {
          ...process.env,
          NODE_ENV: nodeEnv,
          DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}`,
          PORT: '0',
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/NODE_ENV=production and no SERVER_KEY_FILE.*Set SERVER_KEY_FILE/s);
      expect(existsSync(join(dir, 'demo-server-signing.key'))).toBe(false);
    },
  );

  it('is not created under NODE_ENV=production: the demo stops and says to set SERVER_KEY_FILE', () => {
    const run = spawnSync(process.execPath, [DIST_DEMO], {
      cwd: dir,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}`,
        PORT: '0',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/NODE_ENV=production and no SERVER_KEY_FILE.*Set SERVER_KEY_FILE/s);
    expect(existsSync(join(dir, 'demo-server-signing.key'))).toBe(false);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('comes from SERVER_KEY_FILE (and SERVER_KEY_ID) when set', async () => {
    const pair = generateKeyPair('p256');
    const file = join(dir, 'server.key');
    writeFileSync(file, pair.privateKeyPem, { mode: 0o600 });
    const demo = await startDemo({
      DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}`,
      SERVER_KEY_FILE: file,
      SERVER_KEY_ID: 'server-2026-12',
    });
    try {
      expect(demo.output()).toContain(`server key server-2026-12 from SERVER_KEY_FILE ${file}`);
      expect((await jwks(demo.url)).keys).toEqual([
        expect.objectContaining({ kid: 'server-2026-12', kty: 'EC', crv: 'P-256', alg: 'ES256' }),
      ]);
      expect(existsSync(join(dir, 'demo-server-signing.key'))).toBe(false);
    } finally {
      await demo.stop();
    }
  });

  it('names the file when SERVER_KEY_FILE cannot be read', () => {
    const run = spawnSync(process.execPath, [DIST_DEMO], {
      cwd: dir,
      env: { ...process.env, SERVER_KEY_FILE: join(dir, 'nope.key'), PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`SERVER_KEY_FILE ${join(dir, 'nope.key')} cannot be read (ENOENT)`);
  });

  it('stops at startup with a 1024-bit RSA SERVER_KEY_FILE, saying what key to use (the rule for client keys)', () => {
    const file = join(dir, 'weak.key');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    writeFileSync(file, weak.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const run = spawnSync(process.execPath, [DIST_DEMO], {
      cwd: dir,
      env: {
        ...process.env,
        DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}`,
        SERVER_KEY_FILE: file,
        SERVER_KEY_ID: 'weak',
        PORT: '0',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toMatch(
      /key "weak" is refused \(KEY_TOO_WEAK\): RSA keys must be at least 2048 bits; this one has 1024\..*RSA of 2048 bits or more, or ECDSA P-256, P-384 or Ed25519/s,
    );
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/listening on/);
  });
});

/**
 * RED CASE (red-team 2 F2): in a directory others can write (e.g. DATABASE_URL=sqlite:/tmp/…),
 * another local user could plant demo-server-signing.key; the demo would chmod it, publish it in
 * the JWKS and sign tokens with it, so its author could forge admin tokens. The demo now refuses
 * a key file it does not own, one others can write, and anything that is not a regular file.
 */
describe('demo server key: a development key planted by someone else is refused', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kpa-demo-planted-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const planted = 'demo-server-signing.key';
  const start = () =>
    spawnSync(process.execPath, [DIST_DEMO], {
      cwd: dir,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}`,
        PORT: '0',
        HOST: '127.0.0.1',
        SERVER_KEY_FILE: '',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
  const plant = (mode: number): string => {
    const file = join(dir, planted);
    writeFileSync(file, generateKeyPair('ed25519').privateKeyPem, { mode });
    chmodSync(file, mode);
    return file;
  };
  const refusedWith = (run: ReturnType<typeof start>, why: RegExp) => {
    expect([run.status, `${run.stdout}${run.stderr}`]).toEqual([1, expect.stringMatching(why)]);
    expect(run.stderr).toMatch(/Delete it .*or set SERVER_KEY_FILE to your own key/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/listening on|DEVELOPMENT key/);
    expect(existsSync(join(dir, 'demo.sqlite'))).toBe(false);
  };

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  asRoot(
    'RED CASE (red-team 2 F2): a key file owned by another user (uid 65534) stops the demo and is left as it was',
    () => {
      const file = plant(0o644);
      chownSync(file, 65534, 65534);
      refusedWith(start(), /demo-server-signing\.key is owned by another user \(uid 65534\)/);
      const after = statSync(file);
      expect([after.uid, after.mode & 0o777]).toEqual([65534, 0o644]); // not chmod-ed, not taken over
    },
  );

  it('RED CASE (red-team 2 F2): a key file that group or others can write stops the demo', () => {
    plant(0o666);
    refusedWith(start(), /demo-server-signing\.key can be written by any user \(mode 666\)/);
    rmSync(join(dir, planted));
    plant(0o620);
    refusedWith(start(), /demo-server-signing\.key can be written by its group \(mode 620\)/);
  });

  it('RED CASE (red-team 2 F2): a symbolic link or a directory under the key name stops the demo', () => {
    const elsewhere = join(dir, 'elsewhere.key');
    writeFileSync(elsewhere, generateKeyPair('ed25519').privateKeyPem, { mode: 0o600 });
    symlinkSync(elsewhere, join(dir, planted));
    refusedWith(start(), /demo-server-signing\.key is a symbolic link/);
    rmSync(join(dir, planted));
    mkdirSync(join(dir, planted));
    refusedWith(start(), /demo-server-signing\.key is not a regular file/);
  });

  it('its own key, readable by others, is still reused and made 0600', async () => {
    const file = plant(0o644);
    const demo = await startDemo({ DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}` }, dir);
    try {
      expect(demo.output()).toMatch(/DEVELOPMENT key, reused in /);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await demo.stop();
    }
  });
});

/**
 * RED CASE (red-team 3 F2): another local user (uid 65534) creates the SQLite database in a shared
 * directory (e.g. /tmp, mode 1777) with their own admin user and key; the demo, started on that
 * path, would trust it. An existing database file (and its -wal/-shm/-journal) must be a regular
 * file this user owns that no one else can write, like the development key.
 */
describe('demo database: a SQLite file planted by someone else is refused', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-demo-planted-db-'));
    chmodSync(dir, 0o1777);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const database = () => join(dir, 'demo.sqlite');
  const start = () =>
    spawnSync(process.execPath, [DIST_DEMO], {
      cwd: dir,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: `sqlite:${database()}`,
        PORT: '0',
        HOST: '127.0.0.1',
        SERVER_KEY_FILE: '',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
  // Any non-empty file with the SQLite header passes the "is it a database" check: what it holds does not matter here.
  const plant = (file: string, mode: number): void => {
    writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(84)]), {
      mode,
    });
    chmodSync(file, mode);
  };
  const refusedWith = (run: ReturnType<typeof start>, why: RegExp) => {
    expect([run.status, `${run.stdout}${run.stderr}`]).toEqual([1, expect.stringMatching(why)]);
    expect(run.stderr).toMatch(/Point DATABASE_URL at a directory only you can write/);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/listening on|DEVELOPMENT key/);
    expect(existsSync(join(dir, 'demo-server-signing.key'))).toBe(false);
  };

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  if (process.getuid?.() !== 0)
    console.warn('skipped: the planted-database test needs root (to chown to uid 65534)');
  asRoot(
    'RED CASE (red-team 3 F2): a database owned by another user (uid 65534) stops the demo, untouched',
    () => {
      plant(database(), 0o644);
      chownSync(database(), 65534, 65534);
      const before = readFileSync(database());
      refusedWith(start(), /demo\.sqlite is owned by another user \(uid 65534\)/);
      expect(readFileSync(database())).toEqual(before);
    },
  );

  asRoot('RED CASE (red-team 3 F2): a -wal file owned by another user stops the demo', () => {
    plant(database(), 0o600);
    plant(`${database()}-wal`, 0o600);
    chownSync(`${database()}-wal`, 65534, 65534);
    refusedWith(start(), /demo\.sqlite-wal is owned by another user \(uid 65534\)/);
  });

  it('RED CASE (red-team 3 F2): a database others can write, or a symbolic link to one, stops the demo', () => {
    plant(database(), 0o666);
    refusedWith(start(), /demo\.sqlite can be written by any user \(mode 666\)/);
    rmSync(database());
    plant(join(dir, 'elsewhere.sqlite'), 0o600);
    symlinkSync(join(dir, 'elsewhere.sqlite'), database());
    refusedWith(start(), /demo\.sqlite is a symbolic link/);
  });
});
