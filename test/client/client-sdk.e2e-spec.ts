import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createAuthHeader } from '../../src/client';
import { AuthUser } from '../../src';
import { testKey } from '../support/keys';
import { createTestApp, TestApp } from '../support/test-app';

describe('client SDK createAuthHeader against the server', () => {
  let t: TestApp;
  let user: AuthUser;

  beforeAll(async () => {
    t = await createTestApp({ adapter: 'express', database: 'sqlite' });
    user = await t.addUser('sdk', ['reader']);
  });
  afterAll(() => t.close());

  it.each(['ed25519', 'p256', 'p384', 'rsa'] as const)(
    '%s key from a KeyObject, default kid (PEM hash)',
    async (type) => {
      const key = testKey(type, 0);
      await t.registry.register(user, key.publicPem);
      const authorization = await createAuthHeader({ username: 'sdk', privateKey: key.privateKey });
      expect(authorization).toMatch(/^JWT [\w-]+\.[\w-]+\.[\w-]+$/);
      const res = await request(t.server).get('/probe/whoami').set('Authorization', authorization);
      expect([res.status, res.body.username]).toEqual([200, 'sdk']);
    },
  );

  it('an encrypted key file with its passphrase, and an explicit keyId', async () => {
    const key = testKey('ed25519', 1);
    await t.registry.register(user, key.publicPem, { keyId: 'sdk-file' });
    const file = join(mkdtempSync(join(tmpdir(), 'kpa-sdk-')), 'k.pem');
    writeFileSync(
      file,
      key.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 's3cret' }),
    );
    const authorization = await createAuthHeader({
      username: 'sdk',
      keyFile: file,
      keyPassword: 's3cret',
      keyId: 'sdk-file',
    });
    const res = await request(t.server).get('/probe/whoami').set('Authorization', authorization);
    expect([res.status, res.body.keyId]).toEqual([200, 'sdk-file']);
    await expect(
      createAuthHeader({ username: 'sdk', keyFile: file, keyPassword: 'wrong' }),
    ).rejects.toThrow();
  });

  it('every header is new: two calls never share a nonce', async () => {
    const key = testKey('ed25519', 0);
    const a = await createAuthHeader({ username: 'sdk', privateKey: key.privateKey });
    const b = await createAuthHeader({ username: 'sdk', privateKey: key.privateKey });
    expect(a).not.toBe(b);
    await request(t.server).get('/probe/whoami').set('Authorization', a).expect(200);
    await request(t.server).get('/probe/whoami').set('Authorization', b).expect(200);
  });
});
