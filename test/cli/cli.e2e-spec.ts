import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli-program';

/** The CLI in-process, on its own SQLite file (DATABASE_URL), as a user runs it. */
describe('keypair-auth CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kpa-cli-'));
  const saved = process.env.DATABASE_URL;
  beforeAll(() => {
    process.env.DATABASE_URL = `sqlite:${join(dir, 'db.sqlite')}`;
  });
  afterAll(() => {
    process.env.DATABASE_URL = saved;
  });

  async function cli(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it('keygen writes a 0600 private key and a public key, and refuses to overwrite', async () => {
    const name = join(dir, 'k1');
    const r = await cli('keygen', '--type', 'p256', '--out', name);
    expect(r.code).toBe(0);
    expect(statSync(`${name}.key`).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${name}.key`, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(`${name}.pub`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = await cli('keygen', '--type', 'p256', '--out', name);
    expect(again.code).toBe(1);
    expect(again.err.join()).toMatch(/k1\.key already exists: choose another --out/);
  });

  it('rejects an unknown key type with help', async () => {
    const r = await cli('keygen', '--type', 'dsa', '--out', join(dir, 'x'));
    expect(r.code).not.toBe(0);
    expect(existsSync(join(dir, 'x.key'))).toBe(false);
  });

  it('adds a user and a key, lists and revokes it', async () => {
    const name = join(dir, 'k2');
    await cli('keygen', '--type', 'ed25519', '--out', name);
    // The first command on a new database file says so with --create.
    expect((await cli('users', 'add', 'carol', '--roles', 'reader,ops', '--create')).code).toBe(0);
    const add = await cli('keys', 'add', 'carol', `${name}.pub`, '--label', 'ci', '--roles', 'reader');
    expect(add.code).toBe(0);
    const keyId = add.out[0];
    const list = await cli('keys', 'list', 'carol');
    expect(JSON.parse(list.out[0])).toMatchObject({ keyId, label: 'ci', roles: ['reader'], revokedAt: null });
    expect((await cli('keys', 'revoke', keyId)).out).toEqual([`revoked ${keyId}`]);
    expect(JSON.parse((await cli('keys', 'list', 'carol')).out[0]).revokedAt).toEqual(expect.any(String));
  });

  it('explains errors with exit code 1: unknown user, private key file, duplicate user', async () => {
    const name = join(dir, 'k3');
    await cli('keygen', '--out', name);
    const unknown = await cli('keys', 'add', 'nobody', `${name}.pub`);
    expect([unknown.code, unknown.err.join()]).toEqual([1, expect.stringMatching(/no user "nobody"/)]);
    await cli('users', 'add', 'dan');
    const priv = await cli('keys', 'add', 'dan', `${name}.key`);
    expect([priv.code, priv.err.join()]).toEqual([1, expect.stringMatching(/private/i)]);
    const dup = await cli('users', 'add', 'dan');
    expect([dup.code, dup.err.join()]).toEqual([1, expect.stringMatching(/already exists/)]);
  });

  it('token prints an Authorization value', async () => {
    const name = join(dir, 'k4');
    await cli('keygen', '--out', name);
    const r = await cli('token', '--key', `${name}.key`, '--username', 'carol');
    expect(r.out[0]).toMatch(/^JWT [\w-]+\.[\w-]+\.[\w-]+$/);
  });
});
