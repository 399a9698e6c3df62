import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrlRevocationList } from '../../src';
import { runCli } from '../../src/cli/cli-program';

/** `ca` and `certs` commands in-process, on their own SQLite file and CA directory. */
describe('keypair-auth CLI: ca and certs', () => {
  let dir: string;
  const saved = process.env.DATABASE_URL;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpa-cli-certs-'));
    process.env.DATABASE_URL = `sqlite:${join(dir, 'db.sqlite')}`;
  });
  afterAll(async () => {
    process.env.DATABASE_URL = saved;
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it('creates a CA, issues client and server certificates, registers, lists and revokes', async () => {
    const ca = join(dir, 'ca');
    const init = await cli('ca', 'init', '--dir', ca);
    expect(init.code).toBe(0);
    expect(JSON.parse(init.out[0])).toEqual({
      caBundle: join(ca, 'ca-bundle.pem'),
      crl: join(ca, 'crl.pem'),
      root: join(ca, 'root.cert.pem'),
    });
    expect(statSync(join(ca, 'intermediate.key.pem')).mode & 0o777).toBe(0o600);
    expect((await cli('ca', 'init', '--dir', ca)).err.join()).toMatch(/a CA already exists/);

    const issued = await cli(
      'ca',
      'issue',
      'alice',
      '--dir',
      ca,
      '--hours',
      '2',
      '--no-p12',
      '--email',
      'alice@corp.example',
    );
    expect(issued.code).toBe(0);
    const alice = JSON.parse(issued.out[0]) as {
      fingerprint: string;
      serialNumber: string;
      cert: string;
      p12: null;
    };
    expect(alice).toMatchObject({ fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/), p12: null });
    const server = await cli('ca', 'server', '127.0.0.1', '--dir', ca);
    expect([server.code, JSON.parse(server.out[0]).cert]).toEqual([
      0,
      join(ca, 'servers/127.0.0.1/cert.pem'),
    ]);
    expect((await cli('ca', 'issue', 'x', '--dir', ca, '--hours', '-1')).code).not.toBe(0);

    expect((await cli('users', 'add', 'alice', '--roles', 'reader,ops', '--create')).code).toBe(0);
    const added = await cli('certs', 'add', 'alice', alice.cert, '--roles', 'reader', '--label', 'laptop');
    expect(added).toMatchObject({ code: 0, out: [alice.fingerprint] });
    const duplicate = await cli('certs', 'add', 'alice', alice.cert);
    expect([duplicate.code, duplicate.err.join()]).toEqual([1, expect.stringMatching(/already registered/)]);
    const unknown = await cli('certs', 'add', 'nobody', alice.cert);
    expect([unknown.code, unknown.err.join()]).toEqual([1, expect.stringMatching(/no user "nobody"/)]);

    const listed = await cli('certs', 'list', 'alice');
    expect(JSON.parse(listed.out[0])).toMatchObject({
      fingerprint: alice.fingerprint,
      serialNumber: alice.serialNumber,
      subject: 'CN=alice',
      label: 'laptop',
      roles: ['reader'],
      revokedAt: null,
    });
    // Colons and upper case, as `openssl x509 -fingerprint -sha256` prints it.
    const colons = alice.fingerprint.toUpperCase().match(/../g)!.join(':');
    expect((await cli('certs', 'revoke', colons)).out).toEqual([`revoked ${alice.fingerprint}`]);
    expect(JSON.parse((await cli('certs', 'list', 'alice')).out[0]).revokedAt).toEqual(expect.any(String));
    expect((await cli('certs', 'revoke', 'abc')).err.join()).toMatch(/SHA-256 in hex/);

    const revoked = await cli('ca', 'revoke', alice.serialNumber, '--dir', ca);
    expect(JSON.parse(revoked.out[0])).toEqual({
      crl: join(ca, 'crl.pem'),
      crlNumber: 2,
      revoked: [alice.serialNumber],
    });
    const crl = await CrlRevocationList.load(
      await readFile(join(ca, 'crl.pem'), 'utf8'),
      await readFile(join(ca, 'ca-bundle.pem'), 'utf8'),
    );
    expect(crl.isRevoked(alice.serialNumber)).toBe(true);
  });
});

/**
 * RED CASE (red-team 3 F3): `ca init` into a directory another user can write leaked the CA keys:
 * the existing directory was kept as it was, and keys were written through the predictable
 * temporary name KEY.<pid>.tmp, following a symbolic link planted there. Now an existing CA
 * directory must be ours and not group/world-writable, and temporary files have random names
 * created exclusively, never through a link.
 */
describe('keypair-auth CLI: the local CA keeps its keys private in a shared directory', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpa-ca-shared-'));
    chmodSync(dir, 0o755);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  const asRoot = process.getuid?.() === 0 ? it : it.skip;
  if (process.getuid?.() !== 0)
    console.warn('skipped: the other-user CA directory test needs root (to chown to uid 65534)');
  asRoot(
    'RED CASE (red-team 3 F3): a CA directory another user (uid 65534) made is refused; no key is written',
    async () => {
      const ca = join(dir, 'ca');
      mkdirSync(ca, { mode: 0o700 });
      chownSync(ca, 65534, 65534);
      const r = await cli('ca', 'init', '--dir', ca);
      expect(r.code).not.toBe(0);
      expect(r.err.join('\n')).toMatch(/ca is owned by another user \(uid 65534\).*Use a new directory/s);
      expect(readdirSync(ca)).toEqual([]);
    },
  );

  it('RED CASE (red-team 3 F3): a CA directory others can write (0777) is refused; no key is written', async () => {
    const ca = join(dir, 'ca');
    mkdirSync(ca);
    chmodSync(ca, 0o777);
    const r = await cli('ca', 'init', '--dir', ca);
    expect(r.code).not.toBe(0);
    expect(r.err.join('\n')).toMatch(/ca can be written by any user \(mode 777\).*chmod 700/s);
    expect(readdirSync(ca)).toEqual([]);
  });

  it('RED CASE (red-team 3 F3): links planted under KEY.<pid>.tmp are not written through', async () => {
    const ca = join(dir, 'ca');
    mkdirSync(ca, { mode: 0o700 });
    const loot = join(dir, 'loot');
    writeFileSync(loot, '');
    for (const name of ['root.key.pem', 'intermediate.key.pem'])
      symlinkSync(loot, join(ca, `${name}.${process.pid}.tmp`));
    expect((await cli('ca', 'init', '--dir', ca)).code).toBe(0);
    expect(readFileSync(loot, 'utf8')).toBe('');
    for (const name of ['root.key.pem', 'intermediate.key.pem']) {
      const stat = lstatSync(join(ca, name));
      expect([stat.isFile(), stat.mode & 0o777]).toEqual([true, 0o600]);
    }
  });

  it('RED CASE (red-team 4 F4): a link planted at the .p12 path is replaced, not written through', async () => {
    const ca = join(dir, 'ca');
    expect((await cli('ca', 'init', '--dir', ca)).code).toBe(0);
    mkdirSync(join(ca, 'clients', 'alice'), { recursive: true, mode: 0o700 });
    const loot = join(dir, 'outside.p12');
    writeFileSync(loot, '');
    symlinkSync(loot, join(ca, 'clients', 'alice', 'alice.p12'));
    expect((await cli('ca', 'issue', 'alice', '--dir', ca)).code).toBe(0);
    expect(readFileSync(loot, 'utf8')).toBe('');
    const stat = lstatSync(join(ca, 'clients', 'alice', 'alice.p12'));
    expect([stat.isFile(), stat.size > 0, stat.mode & 0o777]).toEqual([true, true, 0o600]);
  });

  it('RED CASE (red-team 3 F3): an issued.json link is replaced, not written through', async () => {
    const ca = join(dir, 'ca');
    expect((await cli('ca', 'init', '--dir', ca)).code).toBe(0);
    expect(statSync(ca).mode & 0o777).toBe(0o700);
    const loot = join(dir, 'loot.json');
    writeFileSync(loot, '');
    symlinkSync(loot, join(ca, 'issued.json'));
    expect((await cli('ca', 'issue', 'alice', '--dir', ca, '--no-p12')).code).toBe(0);
    expect(readFileSync(loot, 'utf8')).toBe('');
    expect(lstatSync(join(ca, 'issued.json')).isFile()).toBe(true);
    expect(readFileSync(join(ca, 'issued.json'), 'utf8')).toMatch(/"issued"/);
  });
});
