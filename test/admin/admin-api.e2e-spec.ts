import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { DATABASES } from '../support/test-database';

const combos = ADAPTERS.flatMap((adapter) => DATABASES.map((database) => [adapter, database] as const));

/** OpenSSH public key line for an Ed25519 key (RFC 8709 wire format). */
function sshEd25519(pub: ReturnType<typeof testKey>['publicKey']): string {
  const raw = Buffer.from(pub.export({ format: 'jwk' }).x as string, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} test@host`;
}

describe.each(combos)('admin and self-service API on %s + %s', (adapter, database) => {
  let t: TestApp;
  const root = testKey('ed25519', 0);
  const as = async (key = root, user = 'root', kid = 'root-1') => ({
    Authorization: await jwtHeader(key.privateKey, user, kid),
  });

  beforeAll(async () => {
    t = await createTestApp({ adapter, database });
    const rootUser = await t.addUser('root', ['admin', 'reader']);
    await t.registry.register(rootUser, root.publicPem, { keyId: 'root-1' });
  });
  afterAll(() => t.close());

  it('creates and lists users; refuses duplicates and bad names', async () => {
    const created = await request(t.server)
      .post('/admin/users')
      .set(await as())
      .send({ username: 'alice', roles: ['reader'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'alice', roles: ['reader'], active: true });
    const dup = await request(t.server)
      .post('/admin/users')
      .set(await as())
      .send({ username: 'alice', roles: [] });
    expect([dup.status, dup.body.code]).toEqual([409, 'USER_EXISTS']);
    const bad = await request(t.server)
      .post('/admin/users')
      .set(await as())
      .send({ username: 'Аlice', roles: [] }); // Cyrillic А
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const extra = await request(t.server)
      .post('/admin/users')
      .set(await as())
      .send({ username: 'x', roles: [], admin: true });
    expect([extra.status, extra.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const list = await request(t.server)
      .get('/admin/users')
      .set(await as())
      .expect(200);
    expect(list.body.map((u: { username: string }) => u.username)).toEqual(['alice', 'root']);
  });

  it('registers keys as SPKI PEM, OpenSSH line and JWK, and lists them', async () => {
    const pem = testKey('p256', 0);
    const ssh = testKey('ed25519', 1);
    const jwk = testKey('p384', 0);
    const r1 = await request(t.server)
      .post('/admin/users/alice/keys')
      .set(await as())
      .send({ publicKey: pem.publicPem, label: 'laptop' });
    expect(r1.status).toBe(201);
    expect(r1.body).toMatchObject({
      keyId: expect.any(String),
      fingerprint: r1.body.keyId,
      algorithm: 'ecdsa-p256-sha256',
      label: 'laptop',
    });
    const r2 = await request(t.server)
      .post('/admin/users/alice/keys')
      .set(await as())
      .send({ publicKey: sshEd25519(ssh.publicKey), keyId: 'alice-ssh' });
    expect([r2.status, r2.body.keyId, r2.body.algorithm]).toEqual([201, 'alice-ssh', 'ed25519']);
    const r3 = await request(t.server)
      .post('/admin/users/alice/keys')
      .set(await as())
      .send({
        publicKey: jwk.publicKey.export({ format: 'jwk' }),
        roles: ['reader'],
        expiresAt: '2999-01-01T00:00:00Z',
      });
    expect([r3.status, r3.body.algorithm, r3.body.roles]).toEqual([201, 'ecdsa-p384-sha384', ['reader']]);
    const list = await request(t.server)
      .get('/admin/users/alice/keys')
      .set(await as())
      .expect(200);
    expect(list.body).toHaveLength(3);
    // The key registered over SSH works for the JWT strategy right away.
    const me = await request(t.server)
      .get('/probe/whoami')
      .set({ Authorization: await jwtHeader(ssh.privateKey, 'alice', 'alice-ssh') });
    expect([me.status, me.body.username]).toEqual([200, 'alice']);
  });

  it.each([
    ['a private key', () => testKey('ed25519', 7).privatePem, 'KEY_IS_PRIVATE'],
    [
      'a 1024-bit RSA key',
      () =>
        generateKeyPairSync('rsa', { modulusLength: 1024 })
          .publicKey.export({ type: 'spki', format: 'pem' })
          .toString(),
      'KEY_TOO_WEAK',
    ],
    ['garbage', () => 'not a key', 'KEY_FORMAT_INVALID'],
    [
      'a JWK with private part',
      () => testKey('ed25519', 7).privateKey.export({ format: 'jwk' }),
      'KEY_IS_PRIVATE',
    ],
    ['a duplicate', () => testKey('p256', 0).publicPem, 'KEY_DUPLICATE'],
  ])('refuses %s with 400 %s', async (_name, input, code) => {
    const res = await request(t.server)
      .post('/admin/users/alice/keys')
      .set(await as())
      .send({ publicKey: input() });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code });
    expect(res.body.message).toEqual(expect.any(String));
  });

  it('refuses roles the user does not hold, and unknown users', async () => {
    const res = await request(t.server)
      .post('/admin/users/alice/keys')
      .set(await as())
      .send({ publicKey: testKey('ed25519', 8).publicPem, roles: ['admin'] });
    expect([res.status, res.body.code]).toEqual([400, 'ROLES_NOT_HELD']);
    const nobody = await request(t.server)
      .post('/admin/users/nobody/keys')
      .set(await as())
      .send({ publicKey: testKey('ed25519', 8).publicPem });
    expect([nobody.status, nobody.body.code]).toEqual([404, 'USER_NOT_FOUND']);
  });

  it('revokes through DELETE /admin/keys/:keyId, effective at once', async () => {
    const auth = { Authorization: await jwtHeader(testKey('ed25519', 1).privateKey, 'alice', 'alice-ssh') };
    await request(t.server).get('/probe/whoami').set(auth).expect(200);
    const res = await request(t.server)
      .delete('/admin/keys/alice-ssh')
      .set(await as())
      .expect(200);
    expect(res.body.revokedAt).toEqual(expect.any(String));
    const after = await request(t.server)
      .get('/probe/whoami')
      .set({ Authorization: await jwtHeader(testKey('ed25519', 1).privateKey, 'alice', 'alice-ssh') });
    expect([after.status, after.body.code]).toEqual([401, 'KEY_REVOKED']);
  });

  it('deactivates a user through PATCH, effective at once', async () => {
    const key = testKey('ed25519', 9);
    await request(t.server)
      .post('/admin/users')
      .set(await as())
      .send({ username: 'mallory', roles: ['reader'] })
      .expect(201);
    await request(t.server)
      .post('/admin/users/mallory/keys')
      .set(await as())
      .send({ publicKey: key.publicPem, keyId: 'm-1' })
      .expect(201);
    await request(t.server)
      .get('/probe/whoami')
      .set({ Authorization: await jwtHeader(key.privateKey, 'mallory', 'm-1') })
      .expect(200);
    await request(t.server)
      .patch('/admin/users/mallory')
      .set(await as())
      .send({ active: false })
      .expect(200);
    const res = await request(t.server)
      .get('/probe/whoami')
      .set({ Authorization: await jwtHeader(key.privateKey, 'mallory', 'm-1') });
    expect([res.status, res.body.code]).toEqual([401, 'USER_INACTIVE']);
  });

  it('keeps non-admins out of /admin (403) and anonymous callers out (401)', async () => {
    const bob = testKey('ed25519', 10);
    await request(t.server)
      .post('/admin/users')
      .set(await as())
      .send({ username: 'bob', roles: ['reader'] })
      .expect(201);
    await request(t.server)
      .post('/admin/users/bob/keys')
      .set(await as())
      .send({ publicKey: bob.publicPem, keyId: 'bob-1' })
      .expect(201);
    const res = await request(t.server)
      .get('/admin/users')
      .set({ Authorization: await jwtHeader(bob.privateKey, 'bob', 'bob-1') });
    expect([res.status, res.body.code]).toEqual([403, 'ROLE_REQUIRED']);
    const anon = await request(t.server).get('/admin/users');
    expect([anon.status, anon.body.code]).toEqual([401, 'CREDENTIALS_MISSING']);
  });

  describe('self-service /keys', () => {
    const limited = testKey('ed25519', 11);

    beforeAll(async () => {
      await request(t.server)
        .post('/admin/users/root/keys')
        .set(await as())
        .send({ publicKey: limited.publicPem, keyId: 'root-reader', roles: ['reader'] })
        .expect(201);
    });

    it('lists, adds and revokes the caller’s own keys', async () => {
      const fresh = testKey('ed25519', 12);
      const add = await request(t.server)
        .post('/keys')
        .set(await as())
        .send({ publicKey: fresh.publicPem, keyId: 'root-2', roles: ['reader'] });
      expect([add.status, add.body.roles]).toEqual([201, ['reader']]);
      const list = await request(t.server)
        .get('/keys')
        .set(await as())
        .expect(200);
      expect(list.body.map((k: { keyId: string }) => k.keyId).sort()).toEqual([
        'root-1',
        'root-2',
        'root-reader',
      ]);
      await request(t.server)
        .delete('/keys/root-2')
        .set(await as())
        .expect(200);
    });

    it('a reader-limited key cannot register a key with more roles, nor one with the default (all) roles', async () => {
      const auth = async () => ({
        Authorization: await jwtHeader(limited.privateKey, 'root', 'root-reader'),
      });
      const more = await request(t.server)
        .post('/keys')
        .set(await auth())
        .send({ publicKey: testKey('ed25519', 13).publicPem, roles: ['admin'] });
      expect([more.status, more.body.code]).toEqual([403, 'ROLES_EXCEED_CREDENTIAL']);
      const dflt = await request(t.server)
        .post('/keys')
        .set(await auth())
        .send({ publicKey: testKey('ed25519', 13).publicPem, keyId: 'root-3' });
      expect([dflt.status, dflt.body.roles]).toEqual([201, ['reader']]);
    });

    it('cannot revoke another user’s key: it looks like a missing one', async () => {
      const other = await request(t.server)
        .delete('/keys/bob-1')
        .set(await as());
      const missing = await request(t.server)
        .delete('/keys/no-such')
        .set(await as());
      expect([other.status, other.body]).toEqual([missing.status, missing.body]);
      expect(other.status).toBe(404);
    });
  });
});

describe('admin API behind a global guard as well as its own', () => {
  it('authenticates once per request: a single-use credential is not claimed twice', async () => {
    const t = await createTestApp({ adapter: 'fastify', database: 'sqlite', globalGuard: true });
    try {
      const root = testKey('ed25519', 0);
      const user = await t.addUser('root', ['admin']);
      await t.registry.register(user, root.publicPem, { keyId: 'root-1' });
      const res = await request(t.server)
        .get('/admin/users')
        .set({ Authorization: await jwtHeader(root.privateKey, 'root', 'root-1') });
      expect(res.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
