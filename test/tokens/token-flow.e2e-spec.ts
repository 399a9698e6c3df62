import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { challengeSigningInput, signWithAlgorithm } from '../../src';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { DATABASES } from '../support/test-database';
import { seedClaims, sign } from '../support/tokens';
import { TOKEN_CONTROLLERS, challengeLogin, resign, serverKeys, whoami } from './token-test-support';

const combos = ADAPTERS.flatMap((adapter) => DATABASES.map((database) => [adapter, database] as const));

describe.each(combos)('tokens: challenge, access and refresh tokens on %s + %s', (adapter, database) => {
  let t: TestApp;
  const server = serverKeys();
  const aliceKey = testKey('ed25519', 0);
  const readerKey = testKey('p256', 0);
  const bobKey = testKey('ed25519', 1);
  let aliceId: string;

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database,
      jwksEndpoint: true,
      controllers: TOKEN_CONTROLLERS,
      options: { responseSigning: { keys: server.keys }, tokens: {} },
    });
    const alice = await t.addUser('alice', ['admin', 'reader']);
    aliceId = alice.id;
    await t.registry.register(alice, aliceKey.publicPem, { keyId: 'alice-ed' });
    await t.registry.register(alice, readerKey.publicPem, { keyId: 'alice-reader', roles: ['reader'] });
    const bob = await t.addUser('bob', ['reader']);
    await t.registry.register(bob, bobKey.publicPem, { keyId: 'bob-1' });
  });
  afterAll(() => t.close());

  const login = (extra: Record<string, unknown> = {}) =>
    challengeLogin(t.server, 'alice-ed', aliceKey.privateKey, 'ed25519', extra);
  const refresh = (refreshToken: string | undefined) =>
    request(t.server).post('/auth/refresh').send({ refreshToken });
  const expectCode = (res: { status: number; body: { code?: string } }, status: number, code: string) =>
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });

  it('full flow: challenge, token, a protected call, refresh; the old refresh token again revokes the family', async () => {
    const first = await login();
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 600,
      refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      refreshTokenExpiresIn: 7 * 86_400,
      roles: ['admin', 'reader'],
    });
    const me = await whoami(t.server, `Bearer ${first.body.accessToken}`).expect(200);
    expect(me.body).toEqual({
      username: 'alice',
      keyId: 'alice-ed',
      method: 'access-token',
      roles: ['admin', 'reader'],
    });

    const second = await refresh(first.body.refreshToken).expect(200);
    expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
    expect(second.body.accessToken).not.toBe(first.body.accessToken);
    await whoami(t.server, `Bearer ${second.body.accessToken}`).expect(200);

    expectCode(await refresh(first.body.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    expectCode(await refresh(second.body.refreshToken), 401, 'TOKEN_REVOKED');
    expectCode(await refresh(first.body.refreshToken), 401, 'TOKEN_REVOKED');
    // Stored hashed: the table never holds the token itself.
    const rows = await t.dataSource.query('SELECT id FROM keypair_auth_refresh_tokens');
    expect(rows.map((r: { id: string }) => r.id)).not.toContain(first.body.refreshToken);
    expect(rows.every((r: { id: string }) => /^[0-9a-f]{64}$/.test(r.id))).toBe(true);
  });

  it('two concurrent uses of one refresh token: exactly one succeeds', async () => {
    const { body } = await login();
    const results = await Promise.all([refresh(body.refreshToken), refresh(body.refreshToken)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(results.find((r) => r.status === 401)?.body.code).toBe('REFRESH_TOKEN_REUSED');
    // The loser revoked the family, the winner's new refresh token included.
    const winner = results.find((r) => r.status === 200)!;
    expectCode(await refresh(winner.body.refreshToken), 401, 'TOKEN_REVOKED');
  });

  it('refuses at issue time an access token for admin from a key limited to reader', async () => {
    const res = await challengeLogin(t.server, 'alice-reader', readerKey.privateKey, 'ecdsa-p256-sha256', {
      roles: ['admin'],
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'ROLES_EXCEED_CREDENTIAL' });
    const ok = await challengeLogin(t.server, 'alice-reader', readerKey.privateKey, 'ecdsa-p256-sha256', {
      scope: 'reader',
    });
    expect(ok.body.roles).toEqual(['reader']);
  });

  it('grants a subset of roles: a reader-only token of an admin is refused on admin routes', async () => {
    const { body } = await login({ roles: ['reader'] });
    expect(body.roles).toEqual(['reader']);
    const me = await whoami(t.server, `Bearer ${body.accessToken}`).expect(200);
    expect(me.body.roles).toEqual(['reader']);
    const admin = await request(t.server)
      .get('/probe/admin')
      .set('Authorization', `Bearer ${body.accessToken}`);
    expectCode(admin, 403, 'ROLE_REQUIRED');
    // Refreshing never widens the grant.
    const renewed = await refresh(body.refreshToken).expect(200);
    expect(renewed.body.roles).toEqual(['reader']);
  });

  it('refuses an expired, a tampered and a wrong-typ token, each with its code', async () => {
    const { body } = await login();
    const token = body.accessToken;
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await resign(token, server.current, {}, { iat: past, exp: past + 600 });
    expectCode(await whoami(t.server, `Bearer ${expired}`), 401, 'TOKEN_EXPIRED');

    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const widened = Buffer.from(JSON.stringify({ ...claims, roles: ['admin', 'reader', 'root'] })).toString(
      'base64url',
    );
    const tampered = await whoami(t.server, `Bearer ${h}.${widened}.${s}`);
    expectCode(tampered, 401, 'ACCESS_TOKEN_INVALID');
    expect(t.logs.failures().at(-1)?.reason).toMatch(/signature verification failed/);
    expect(tampered.headers['www-authenticate']).toMatch(/DPoP algs="EdDSA ES256/);

    const wrongTyp = await resign(token, server.current, { typ: 'JWT' });
    expectCode(await whoami(t.server, `Bearer ${wrongTyp}`), 401, 'TOKEN_TYPE_INVALID');
    const untyped = await resign(token, server.current, { typ: undefined });
    expectCode(await whoami(t.server, `Bearer ${untyped}`), 401, 'TOKEN_TYPE_INVALID');
  });

  it('refuses a token the test signs with another key under the server kid', async () => {
    const { body } = await login();
    const impostor = generateKeyPairSync('ed25519').privateKey;
    const forged = await resign(body.accessToken, impostor, {});
    expect(decodeProtectedHeader(forged)).toMatchObject({ kid: 'srv-2026-11', typ: 'at+jwt', alg: 'EdDSA' });
    expectCode(await whoami(t.server, `Bearer ${forged}`), 401, 'ACCESS_TOKEN_INVALID');
    // The old key's kid with the new key's algorithm: the alg is pinned to the key.
    const algSwap = await resign(body.accessToken, server.current, { kid: 'srv-2026-10' });
    expectCode(await whoami(t.server, `Bearer ${algSwap}`), 401, 'ACCESS_TOKEN_INVALID');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: 'srv-2026-11' })).toString('base64url')}.${body.accessToken.split('.')[1]}.`;
    expectCode(await whoami(t.server, `Bearer ${none}`), 401, 'ALGORITHM_NOT_ALLOWED');
  });

  it('accepts tokens of an older keyring key that is still listed (rotation)', async () => {
    const { body } = await login();
    const older = server.keys[1].privateKey;
    const byOldKey = await resign(body.accessToken, older, { kid: 'srv-2026-10', alg: 'ES256' });
    await whoami(t.server, `Bearer ${byOldKey}`).expect(200);
  });

  it('after an admin revokes the user’s tokens, a previously valid access token is refused at once on this instance', async () => {
    const session = await login();
    await whoami(t.server, `Bearer ${session.body.accessToken}`).expect(200);
    const admin = await login({ roles: ['admin'] });
    const revoked = await request(t.server)
      .post('/admin/users/alice/revoke-tokens')
      .set('Authorization', `Bearer ${admin.body.accessToken}`)
      .expect(200);
    expect(revoked.body).toEqual({
      username: 'alice',
      generation: expect.any(Number),
      refreshTokensRevoked: expect.any(Number),
    });
    expect(revoked.body.refreshTokensRevoked).toBeGreaterThanOrEqual(2);
    expectCode(await whoami(t.server, `Bearer ${session.body.accessToken}`), 401, 'TOKEN_REVOKED');
    expectCode(await refresh(session.body.refreshToken), 401, 'TOKEN_REVOKED');
    // Proving the key again works, under the new generation.
    const again = await login();
    await whoami(t.server, `Bearer ${again.body.accessToken}`).expect(200);
    expect(decodeJwt(again.body.accessToken).gen).toBe(revoked.body.generation);
    // Only admins: bob cannot.
    const bob = await challengeLogin(t.server, 'bob-1', bobKey.privateKey, 'ed25519');
    const denied = await request(t.server)
      .post('/admin/users/alice/revoke-tokens')
      .set('Authorization', `Bearer ${bob.body.accessToken}`);
    expectCode(denied, 403, 'ROLE_REQUIRED');
  });

  it('the JWKS document validates an issued token with jose (createLocalJWKSet + jwtVerify)', async () => {
    const { body } = await login({ roles: ['reader'] });
    const jwks = (await request(t.server).get('/.well-known/jwks.json').expect(200)).body;
    expect(jwks.keys.map((k: { kid: string; alg: string }) => [k.kid, k.alg])).toEqual([
      ['srv-2026-11', 'EdDSA'],
      ['srv-2026-10', 'ES256'],
    ]);
    const { payload, protectedHeader } = await jwtVerify(body.accessToken, createLocalJWKSet(jwks), {
      typ: 'at+jwt',
    });
    expect(protectedHeader).toMatchObject({ typ: 'at+jwt', kid: 'srv-2026-11', alg: 'EdDSA' });
    expect(payload).toEqual({
      sub: aliceId,
      key_id: 'alice-ed',
      cred: 'key',
      roles: ['reader'],
      gen: expect.any(Number),
      jti: expect.any(String),
      iat: expect.any(Number),
      exp: (payload.iat as number) + 600,
    });
  });

  it('answers a challenge request identically for known and unknown keyIds, without a query', async () => {
    const before = t.queries.count;
    const known = await request(t.server).post('/auth/challenge').send({ keyId: 'alice-ed' });
    const unknown = await request(t.server).post('/auth/challenge').send({ keyId: 'nobody-ed' });
    expect(t.queries.count).toBe(before);
    for (const res of [known, unknown]) {
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['challenge', 'expiresIn']);
      expect(res.body.challenge).toMatch(/^[A-Za-z0-9_-]{43}\.\d{10}\.[A-Za-z0-9_-]{43}$/);
      expect(res.body.expiresIn).toBe(60);
      expect(res.headers['cache-control']).toBe('no-store');
    }
    expect(known.body.challenge.length).toBe(unknown.body.challenge.length);
    expect(known.headers['content-type']).toBe(unknown.headers['content-type']);
    expect(known.body.challenge).not.toBe(unknown.body.challenge);
  });

  it('a challenge works once, only for its keyId, only signed by the stored key', async () => {
    const { body } = await request(t.server).post('/auth/challenge').send({ keyId: 'alice-ed' }).expect(200);
    const signature = signWithAlgorithm(
      'ed25519',
      aliceKey.privateKey,
      challengeSigningInput(body.challenge),
    );
    const answer = {
      keyId: 'alice-ed',
      challenge: body.challenge,
      signature: signature.toString('base64url'),
    };
    expectCode(
      await request(t.server)
        .post('/auth/token')
        .send({ ...answer, keyId: 'bob-1' }),
      401,
      'CHALLENGE_INVALID',
    );
    const wrongKey = signWithAlgorithm('ed25519', bobKey.privateKey, challengeSigningInput(body.challenge));
    const forged = await request(t.server)
      .post('/auth/token')
      .send({ ...answer, signature: wrongKey.toString('base64url') });
    expectCode(forged, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    // The raw challenge signed without the domain prefix is not an answer.
    const bare = signWithAlgorithm('ed25519', aliceKey.privateKey, Buffer.from(body.challenge));
    expectCode(
      await request(t.server)
        .post('/auth/token')
        .send({ ...answer, signature: bare.toString('base64url') }),
      401,
      'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
    );
    await request(t.server).post('/auth/token').send(answer).expect(200);
    expectCode(await request(t.server).post('/auth/token').send(answer), 401, 'REPLAYED');
  });

  it('an unknown key answers like a bad signature; a made-up challenge is CHALLENGE_INVALID', async () => {
    const { body } = await request(t.server).post('/auth/challenge').send({ keyId: 'nobody-ed' }).expect(200);
    const signature = signWithAlgorithm(
      'ed25519',
      aliceKey.privateKey,
      challengeSigningInput(body.challenge),
    );
    const unknown = await request(t.server)
      .post('/auth/token')
      .send({ keyId: 'nobody-ed', challenge: body.challenge, signature: signature.toString('base64url') });
    expectCode(unknown, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    expect(unknown.headers['www-authenticate']).toMatch(/DPoP algs=".*JWT realm="keypair-auth"/);
    expect(t.logs.failures().at(-1)).toMatchObject({
      code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
      status: 401,
      reason: expect.stringMatching(/does not verify/),
    });
    const [nonce, , mac] = body.challenge.split('.');
    const later = `${nonce}.${Math.floor(Date.now() / 1000) + 3600}.${mac}`;
    expectCode(
      await request(t.server)
        .post('/auth/token')
        .send({ keyId: 'nobody-ed', challenge: later, signature: signature.toString('base64url') }),
      401,
      'CHALLENGE_INVALID',
    );
    expectCode(await request(t.server).post('/auth/token').send({}), 401, 'CREDENTIALS_MISSING');
    expectCode(
      await request(t.server).post('/auth/token').send({ keyId: 'alice-ed' }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('POST /auth/token authenticated by a strategy: a client JWT works, an access token does not', async () => {
    const jwt = await sign(aliceKey.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
    const issued = await request(t.server)
      .post('/auth/token')
      .set('Authorization', `JWT ${jwt}`)
      .send({ roles: ['reader'] })
      .expect(200);
    expect(issued.body.roles).toEqual(['reader']);
    const noBody = await sign(aliceKey.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
    const all = await request(t.server).post('/auth/token').set('Authorization', `JWT ${noBody}`).expect(200);
    expect(all.body.roles).toEqual(['admin', 'reader']);
    const exchange = await request(t.server)
      .post('/auth/token')
      .set('Authorization', `Bearer ${issued.body.accessToken}`)
      .send({});
    expectCode(exchange, 401, 'KEY_PROOF_REQUIRED');
    // A plain client-signed Bearer JWT still reaches the asymmetric-JWT strategy.
    const bearer = await sign(aliceKey.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'));
    expect((await whoami(t.server, `Bearer ${bearer}`).expect(200)).body.method).toBe('jwt');
  });

  it('revoking the key ends its access tokens (key status) and refresh tokens', async () => {
    const tmp = testKey('ed25519', 5);
    const carol = await t.addUser(`carol-${database}`, ['reader']);
    await t.registry.register(carol, tmp.publicPem, { keyId: 'carol-1' });
    const { body } = await challengeLogin(t.server, 'carol-1', tmp.privateKey, 'ed25519');
    await whoami(t.server, `Bearer ${body.accessToken}`).expect(200);
    await t.registry.revoke('carol-1');
    expectCode(await whoami(t.server, `Bearer ${body.accessToken}`), 401, 'KEY_REVOKED');
    expectCode(await refresh(body.refreshToken), 401, 'KEY_REVOKED');
  });

  it('makes no SQL query per request once the caches are warm', async () => {
    const { body } = await login();
    await whoami(t.server, `Bearer ${body.accessToken}`).expect(200);
    const before = t.queries.count;
    for (let i = 0; i < 5; i++) await whoami(t.server, `Bearer ${body.accessToken}`).expect(200);
    expect(t.queries.count).toBe(before);
  });
});

describe('token endpoints without the tokens option', () => {
  it('stop the app at startup with the fix in the message', async () => {
    await expect(
      createTestApp({ adapter: 'express', database: 'sqlite', controllers: TOKEN_CONTROLLERS }),
    ).rejects.toThrow(/the tokens option is not set\. Pass tokens: \{\} and responseSigning/);
  });
});
