import request from 'supertest';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { DATABASES } from '../support/test-database';
import { testKey } from '../support/keys';
import { nonce, now, seedClaims, sign, unsecured } from '../support/tokens';

const combos = ADAPTERS.flatMap((adapter) => DATABASES.map((database) => [adapter, database] as const));

describe.each(combos)('asymmetric JWT strategy on %s + %s', (adapter, database) => {
  let t: TestApp;
  const ed = testKey('ed25519', 0);
  const ed2 = testKey('ed25519', 1);
  const p256 = testKey('p256', 0);
  const rsa = testKey('rsa', 0);
  const readerKey = testKey('ed25519', 2);
  const bobKey = testKey('ed25519', 3);

  beforeAll(async () => {
    t = await createTestApp({ adapter, database });
    const alice = await t.addUser('alice', ['admin', 'reader']);
    await t.registry.register(alice, ed.publicPem, { keyId: 'alice-ed' });
    await t.registry.register(alice, p256.publicPem);
    await t.registry.register(alice, rsa.publicPem, { keyId: 'alice-rsa' });
    await t.registry.register(alice, readerKey.publicPem, { keyId: 'alice-reader', roles: ['reader'] });
    const bob = await t.addUser('bob', ['reader']);
    await t.registry.register(bob, bobKey.publicPem, { keyId: 'bob-1' });
  });
  afterAll(() => t.close());

  const whoami = (authorization?: string) => {
    const r = request(t.server).get('/probe/whoami');
    return authorization === undefined ? r : r.set('Authorization', authorization);
  };
  const expectError = async (authorization: string | undefined, status: number, code: string) => {
    const res = await whoami(authorization);
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.body).toEqual({
      statusCode: status,
      error: expect.any(String),
      code,
      message: expect.any(String),
    });
    return res;
  };

  describe('accepts', () => {
    it.each([
      [
        'Ed25519 / EdDSA with keyId',
        () => sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice')),
      ],
      [
        'Ed25519 with the PEM-hash kid',
        () => sign(ed.privateKey, { alg: 'EdDSA', kid: ed.pemSha256 }, seedClaims('alice')),
      ],
      [
        'P-256 / ES256',
        () => sign(p256.privateKey, { alg: 'ES256', kid: p256.pemSha256 }, seedClaims('alice')),
      ],
      ['RSA / RS256', () => sign(rsa.privateKey, { alg: 'RS256', kid: 'alice-rsa' }, seedClaims('alice'))],
      [
        'no kid: the user’s keys are tried',
        () => sign(p256.privateKey, { alg: 'ES256' }, seedClaims('alice')),
      ],
      [
        'standard claims sub/iat/exp/jti',
        () =>
          sign(
            ed.privateKey,
            { alg: 'EdDSA', kid: 'alice-ed' },
            { sub: 'alice', iat: now(), exp: now() + 60, jti: nonce() },
          ),
      ],
    ])('%s', async (_name, make) => {
      const res = await whoami(`JWT ${await make()}`).expect(200);
      expect(res.body).toEqual({
        username: 'alice',
        keyId: expect.any(String),
        method: 'jwt',
        roles: ['admin', 'reader'],
      });
    });

    it('the Bearer scheme too, and answers with the key id used', async () => {
      const token = await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
      const res = await whoami(`Bearer ${token}`).expect(200);
      expect(res.body.keyId).toBe('alice-ed');
    });

    it('htm/htu bound to this request', async () => {
      const claims = { sub: 'alice', iat: now(), exp: now() + 60, jti: nonce(), htm: 'GET' };
      const res0 = await whoami(
        `JWT ${await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, claims)}`,
      );
      expect(res0.body.code).toBe('REQUEST_BINDING_MISMATCH'); // htm without htu
      const token = await sign(
        ed.privateKey,
        { alg: 'EdDSA', kid: 'alice-ed' },
        { ...claims, jti: nonce(), htu: `${t.server}/probe/whoami` },
      );
      await whoami(`JWT ${token}`).expect(200);
      const elsewhere = await sign(
        ed.privateKey,
        { alg: 'EdDSA', kid: 'alice-ed' },
        { ...claims, jti: nonce(), htu: `${t.server}/probe/admin` },
      );
      await expectError(`JWT ${elsewhere}`, 401, 'REQUEST_BINDING_MISMATCH');
    });
  });

  describe('refuses', () => {
    it('the same token twice: REPLAYED', async () => {
      const token = await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
      await whoami(`JWT ${token}`).expect(200);
      await expectError(`JWT ${token}`, 401, 'REPLAYED');
    });

    it('logs each failure with its code and reason', async () => {
      const old = await sign(
        ed.privateKey,
        { alg: 'EdDSA', kid: 'alice-ed' },
        seedClaims('alice', { time: now() - 60 }),
      );
      await expectError(`JWT ${old}`, 401, 'TOKEN_EXPIRED');
      expect(t.logs.failures().at(-1)).toMatchObject({
        code: 'TOKEN_EXPIRED',
        status: 401,
        reason: expect.stringMatching(/s old/),
      });
    });

    it('a forged signature and an unknown key alike', async () => {
      const forged = await sign(ed2.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
      const a = await expectError(`JWT ${forged}`, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
      const unknown = await sign(ed2.privateKey, { alg: 'EdDSA', kid: 'no-such-key' }, seedClaims('alice'));
      const b = await expectError(`JWT ${unknown}`, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
      expect(b.body).toEqual(a.body);
      expect(b.headers['www-authenticate']).toBe(a.headers['www-authenticate']);
    });

    it('a token whose signature was altered', async () => {
      const token = await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
      const last = token.at(-2) === 'A' ? 'B' : 'A';
      await expectError(
        `JWT ${token.slice(0, -2)}${last}${token.at(-1)}`,
        401,
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
      );
    });

    it('a payload swapped under a valid signature', async () => {
      const good = await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('bob'));
      const other = await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
      const [h, , s] = good.split('.');
      await expectError(`JWT ${h}.${other.split('.')[1]}.${s}`, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    });

    it('a time 30 s old: TOKEN_EXPIRED; 30 s ahead: TOKEN_NOT_YET_VALID', async () => {
      const old = await sign(
        ed.privateKey,
        { alg: 'EdDSA', kid: 'alice-ed' },
        seedClaims('alice', { time: now() - 30 }),
      );
      await expectError(`JWT ${old}`, 401, 'TOKEN_EXPIRED');
      const ahead = await sign(
        ed.privateKey,
        { alg: 'EdDSA', kid: 'alice-ed' },
        seedClaims('alice', { time: now() + 30 }),
      );
      await expectError(`JWT ${ahead}`, 401, 'TOKEN_NOT_YET_VALID');
    });

    it('alg: none', async () => {
      await expectError(`JWT ${unsecured(seedClaims('alice'), 'alice-ed')}`, 401, 'ALGORITHM_NOT_ALLOWED');
    });

    it('HS256 keyed with the public key as the secret', async () => {
      for (const secret of [ed.publicPem, rsa.publicPem]) {
        const token = await sign(
          Buffer.from(secret),
          { alg: 'HS256', kid: 'alice-rsa' },
          seedClaims('alice'),
        );
        await expectError(`JWT ${token}`, 401, 'ALGORITHM_NOT_ALLOWED');
      }
    });

    it('an alg that differs from the stored key’s (no hint that the key exists)', async () => {
      const token = await sign(rsa.privateKey, { alg: 'RS256', kid: 'alice-ed' }, seedClaims('alice'));
      await expectError(`JWT ${token}`, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
      const ps = await sign(rsa.privateKey, { alg: 'PS512', kid: 'alice-rsa' }, seedClaims('alice'));
      await expectError(`JWT ${ps}`, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    });

    it('another user’s key named in kid', async () => {
      const token = await sign(bobKey.privateKey, { alg: 'EdDSA', kid: 'bob-1' }, seedClaims('alice'));
      await expectError(`JWT ${token}`, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    });

    it('a standard token valid for more than 5 minutes, an expired one, a foreign audience', async () => {
      const kid = { alg: 'EdDSA', kid: 'alice-ed' };
      const long = await sign(ed.privateKey, kid, {
        sub: 'alice',
        iat: now(),
        exp: now() + 301,
        jti: nonce(),
      });
      await expectError(`JWT ${long}`, 401, 'TOKEN_LIFETIME_TOO_LONG');
      const expired = await sign(ed.privateKey, kid, {
        sub: 'alice',
        iat: now() - 120,
        exp: now() - 60,
        jti: nonce(),
      });
      await expectError(`JWT ${expired}`, 401, 'TOKEN_EXPIRED');
      const aud = await sign(ed.privateKey, kid, {
        sub: 'alice',
        iat: now(),
        exp: now() + 60,
        jti: nonce(),
        aud: 'other',
      });
      await expectError(`JWT ${aud}`, 401, 'AUDIENCE_INVALID');
    });

    it.each([
      ['no header', undefined, 'CREDENTIALS_MISSING'],
      ['garbage', 'JWT garbage', 'MALFORMED_CREDENTIALS'],
      ['three empty-ish parts', 'JWT a.b.c', 'MALFORMED_CREDENTIALS'],
      ['scheme only', 'JWT', 'MALFORMED_CREDENTIALS'],
      ['unknown scheme', 'Basic YWxpY2U6cHc=', 'MALFORMED_CREDENTIALS'],
      ['12 KB token', `JWT ${'a'.repeat(12_000)}.b.c`, 'MALFORMED_CREDENTIALS'],
      [
        'JSON that is not an object',
        `JWT ${Buffer.from('[1]').toString('base64url')}.e30.sig`,
        'MALFORMED_CREDENTIALS',
      ],
      ['non-integer time', 'SIGN:{"username":"alice","time":"now","nonce":"x"}', 'MALFORMED_CREDENTIALS'],
      ['missing nonce', 'SIGN:{"username":"alice","time":NOW}', 'MALFORMED_CREDENTIALS'],
      [
        'username and sub disagree',
        'SIGN:{"username":"alice","sub":"bob","time":NOW,"nonce":"n1"}',
        'MALFORMED_CREDENTIALS',
      ],
      [
        'control characters in username',
        'SIGN:{"username":"ali\\u0000ce","time":NOW,"nonce":"n2"}',
        'MALFORMED_CREDENTIALS',
      ],
    ])('%s: 401 with its code, never 500', async (_name, header, code) => {
      let value = header;
      if (header?.startsWith('SIGN:')) {
        const claims = JSON.parse(header.slice(5).replace(/NOW/g, String(now()))) as Record<string, unknown>;
        value = `JWT ${await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, claims)}`;
      }
      const res = await expectError(value, 401, code);
      expect(res.headers['www-authenticate']).toContain('JWT');
    });

    it('two Authorization headers', async () => {
      const token = await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
      const res = await request(t.server)
        .get('/probe/whoami')
        .set('Authorization', `JWT ${token}`)
        .set('authorization', 'JWT x')
        .ok(() => true);
      // Node or the client may fold the two lines; either way the request must not pass.
      expect(res.status).toBe(401);
    });
  });

  describe('roles', () => {
    it('a key limited to [reader] of an admin user cannot reach @Roles("admin")', async () => {
      const token = await sign(
        readerKey.privateKey,
        { alg: 'EdDSA', kid: 'alice-reader' },
        seedClaims('alice'),
      );
      const me = await whoami(`JWT ${token}`).expect(200);
      expect(me.body.roles).toEqual(['reader']);
      const again = await sign(
        readerKey.privateKey,
        { alg: 'EdDSA', kid: 'alice-reader' },
        seedClaims('alice'),
      );
      const res = await request(t.server).get('/probe/admin').set('Authorization', `JWT ${again}`);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('ROLE_REQUIRED');
      const full = await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
      await request(t.server).get('/probe/admin').set('Authorization', `JWT ${full}`).expect(200);
    });

    it('@Public routes need nothing', async () => {
      await request(t.server).get('/probe/open').expect(200, { open: true });
    });
  });

  describe('key and account state', () => {
    it('a revoked key is refused on the next request (cache dropped at once)', async () => {
      const key = testKey('ed25519', 4);
      const carol = await t.addUser('carol', ['reader']);
      await t.registry.register(carol, key.publicPem, { keyId: 'carol-1' });
      await whoami(
        `JWT ${await sign(key.privateKey, { alg: 'EdDSA', kid: 'carol-1' }, seedClaims('carol'))}`,
      ).expect(200);
      await t.registry.revoke('carol-1');
      await expectError(
        `JWT ${await sign(key.privateKey, { alg: 'EdDSA', kid: 'carol-1' }, seedClaims('carol'))}`,
        401,
        'KEY_REVOKED',
      );
    });

    it('an inactive user is refused', async () => {
      const key = testKey('ed25519', 5);
      const dave = await t.addUser('dave', ['reader']);
      await t.registry.register(dave, key.publicPem, { keyId: 'dave-1' });
      await whoami(
        `JWT ${await sign(key.privateKey, { alg: 'EdDSA', kid: 'dave-1' }, seedClaims('dave'))}`,
      ).expect(200);
      await t.registry.directory.setActive!(dave.id, false);
      t.registry.forgetUser(dave.id);
      await expectError(
        `JWT ${await sign(key.privateKey, { alg: 'EdDSA', kid: 'dave-1' }, seedClaims('dave'))}`,
        401,
        'USER_INACTIVE',
      );
    });

    it('an expired key is refused', async () => {
      const key = testKey('ed25519', 6);
      const erin = await t.addUser('erin', ['reader']);
      await t.registry.register(erin, key.publicPem, {
        keyId: 'erin-1',
        expiresAt: new Date(Date.now() + 400),
      });
      await new Promise((r) => setTimeout(r, 450));
      await expectError(
        `JWT ${await sign(key.privateKey, { alg: 'EdDSA', kid: 'erin-1' }, seedClaims('erin'))}`,
        401,
        'KEY_EXPIRED',
      );
    });

    it('known keys are served from the cache: no SQL per request, lastUsedAt written in a batch', async () => {
      const warm = await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
      await whoami(`JWT ${warm}`).expect(200);
      const before = t.queries.count;
      for (let i = 0; i < 20; i++) {
        await whoami(
          `JWT ${await sign(ed.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'))}`,
        ).expect(200);
      }
      expect(t.queries.count - before).toBe(0);
      const keys = await t.registry.listKeys((await t.registry.directory.findByUsername('alice'))!.id);
      expect(keys.find((k) => k.keyId === 'alice-ed')?.lastUsedAt).not.toBeNull();
    });
  });
});
