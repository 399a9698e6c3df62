import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, JWK, SignJWT } from 'jose';
import request from 'supertest';
import { createDpopProof } from '../../src/client';
import { accessTokenHash as athOf } from '../../src/tokens/dpop-proof';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { TOKEN_CONTROLLERS, challengeLogin, serverKeys, whoami } from './token-test-support';

describe.each(ADAPTERS)('DPoP (RFC 9449) on token and resource requests, on %s', (adapter) => {
  let t: TestApp;
  const server = serverKeys();
  const clientKey = testKey('ed25519', 0);
  const dpopKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const otherKey = generateKeyPairSync('ed25519').privateKey;
  let fingerprint: string;

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      controllers: TOKEN_CONTROLLERS,
      options: { responseSigning: { keys: server.keys }, tokens: {} },
    });
    const alice = await t.addUser('alice', ['reader']);
    fingerprint = (await t.registry.register(alice, clientKey.publicPem, { keyId: 'alice-ed' })).fingerprint;
  });
  afterAll(() => t.close());

  const url = (path: string) => `${t.server}${path}`;
  const proof = (method: string, path: string, accessToken?: string, key = dpopKey) =>
    createDpopProof({ privateKey: key, method, url: url(path), accessToken });
  const boundLogin = async () =>
    challengeLogin(
      t.server,
      'alice-ed',
      clientKey.privateKey,
      'ed25519',
      {},
      {
        DPoP: await proof('POST', '/auth/token'),
      },
    );
  const expectCode = (res: { status: number; body: { code?: string } }, status: number, code: string) =>
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });

  it('binds the tokens to the key of a DPoP proof sent with the token request', async () => {
    const { status, body } = await boundLogin();
    expect(status).toBe(200);
    expect(body.tokenType).toBe('DPoP');
    const jkt = await calculateJwkThumbprint(dpopKey.export({ format: 'jwk' }) as JWK);
    expect(decodeJwt(body.accessToken).cnf).toEqual({ jkt });
    const me = await whoami(t.server, `DPoP ${body.accessToken}`, {
      DPoP: await proof('GET', '/probe/whoami', body.accessToken),
    }).expect(200);
    expect(me.body.method).toBe('access-token');
  });

  it('refuses a bound token without a proof, or sent as Bearer', async () => {
    const { body } = await boundLogin();
    expectCode(await whoami(t.server, `DPoP ${body.accessToken}`), 401, 'DPOP_PROOF_REQUIRED');
    const asBearer = await whoami(t.server, `Bearer ${body.accessToken}`, {
      DPoP: await proof('GET', '/probe/whoami', body.accessToken),
    });
    expectCode(asBearer, 401, 'DPOP_PROOF_REQUIRED');
  });

  it('refuses proofs for another URL, method, token or key, an old one, and a replayed one', async () => {
    const { body } = await boundLogin();
    const at = body.accessToken;
    const call = async (dpop: string) => whoami(t.server, `DPoP ${at}`, { DPoP: dpop });
    expectCode(await call(await proof('GET', '/probe/admin', at)), 401, 'DPOP_PROOF_INVALID');
    expectCode(await call(await proof('POST', '/probe/whoami', at)), 401, 'DPOP_PROOF_INVALID');
    expectCode(await call(await proof('GET', '/probe/whoami')), 401, 'DPOP_PROOF_INVALID'); // no ath
    expectCode(await call(await proof('GET', '/probe/whoami', `${at}x`)), 401, 'DPOP_PROOF_INVALID');
    expectCode(await call(await proof('GET', '/probe/whoami', at, otherKey)), 401, 'DPOP_PROOF_INVALID');
    const old = await createDpopProof({
      privateKey: dpopKey,
      method: 'GET',
      url: url('/probe/whoami'),
      accessToken: at,
      iat: Math.floor(Date.now() / 1000) - 300,
    });
    expectCode(await call(old), 401, 'DPOP_PROOF_INVALID');
    const once = await proof('GET', '/probe/whoami', at);
    await call(once).then((r) => expect(r.status).toBe(200));
    expectCode(await call(once), 401, 'REPLAYED');
    // htu is compared without the query, as RFC 9449 says.
    const withQuery = await request(t.server)
      .get('/probe/whoami?page=2')
      .set({ Authorization: `DPoP ${at}`, DPoP: await proof('GET', '/probe/whoami', at) });
    expect(withQuery.status).toBe(200);
  });

  it('refuses a proof whose jwk carries the private key, or whose typ is not dpop+jwt', async () => {
    const { body } = await boundLogin();
    const at = body.accessToken;
    const base = await proof('GET', '/probe/whoami', at);
    const claims = decodeJwt(base);
    const privateJwk = dpopKey.export({ format: 'jwk' });
    const leaky = await new SignJWT({ ...claims, jti: 'leaky-jti-1' })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: privateJwk as JWK })
      .sign(dpopKey);
    expectCode(await whoami(t.server, `DPoP ${at}`, { DPoP: leaky }), 401, 'DPOP_PROOF_INVALID');
    expect(t.logs.failures().at(-1)?.reason).toMatch(/private key material/);
    const { d: _d, ...publicJwk } = privateJwk;
    const untyped = await new SignJWT({ ...claims, jti: 'untyped-jti-1' })
      .setProtectedHeader({ typ: 'JWT', alg: 'ES256', jwk: publicJwk as JWK })
      .sign(dpopKey);
    expectCode(await whoami(t.server, `DPoP ${at}`, { DPoP: untyped }), 401, 'DPOP_PROOF_INVALID');
    expect(t.logs.failures().at(-1)?.reason).toMatch(/typ is not dpop\+jwt/);
  });

  it('bindToKey binds to the registered key (cnf.jkt = its fingerprint); proofs are then signed with it', async () => {
    const { body } = await challengeLogin(t.server, 'alice-ed', clientKey.privateKey, 'ed25519', {
      bindToKey: true,
    });
    expect(body.tokenType).toBe('DPoP');
    expect(decodeJwt(body.accessToken).cnf).toEqual({ jkt: fingerprint });
    const dpop = await proof('GET', '/probe/whoami', body.accessToken, clientKey.privateKey);
    await whoami(t.server, `DPoP ${body.accessToken}`, { DPoP: dpop }).expect(200);
  });

  it('a bound refresh token needs a proof with the same key', async () => {
    const { body } = await boundLogin();
    const refresh = (dpop?: string) => {
      const r = request(t.server).post('/auth/refresh');
      return (dpop ? r.set('DPoP', dpop) : r).send({ refreshToken: body.refreshToken });
    };
    expectCode(await refresh(), 401, 'DPOP_PROOF_REQUIRED');
    expectCode(
      await refresh(await proof('POST', '/auth/refresh', undefined, otherKey)),
      401,
      'DPOP_PROOF_INVALID',
    );
    const ok = await refresh(await proof('POST', '/auth/refresh'));
    expect(ok.status).toBe(200);
    expect(ok.body.tokenType).toBe('DPoP');
    expect(decodeJwt(ok.body.accessToken).cnf).toEqual(decodeJwt(body.accessToken).cnf);
  });

  it('revoking a bound family needs a proof with the same key for /auth/revoke; a refused one changes nothing', async () => {
    const { body } = await boundLogin();
    const post = (path: string, dpop?: string) => {
      const r = request(t.server).post(path);
      return (dpop ? r.set('DPoP', dpop) : r).send({ refreshToken: body.refreshToken });
    };
    expectCode(await post('/auth/revoke'), 401, 'DPOP_PROOF_REQUIRED');
    expectCode(
      await post('/auth/revoke', await proof('POST', '/auth/revoke', undefined, otherKey)),
      401,
      'DPOP_PROOF_INVALID',
    );
    expectCode(await post('/auth/revoke', await proof('POST', '/auth/refresh')), 401, 'DPOP_PROOF_INVALID');
    // The family is untouched: its holder still refreshes, then revokes it with a proof.
    const renewed = await request(t.server)
      .post('/auth/refresh')
      .set('DPoP', await proof('POST', '/auth/refresh'))
      .send({ refreshToken: body.refreshToken })
      .expect(200);
    const revoke = await request(t.server)
      .post('/auth/revoke')
      .set('DPoP', await proof('POST', '/auth/revoke'))
      .send({ refreshToken: renewed.body.refreshToken });
    expect([revoke.status, revoke.body]).toEqual([200, { revoked: true }]);
    const after = await request(t.server)
      .post('/auth/refresh')
      .set('DPoP', await proof('POST', '/auth/refresh'))
      .send({ refreshToken: renewed.body.refreshToken });
    expectCode(after, 401, 'TOKEN_REVOKED');
  });

  it('compares htu with the path as received: dot segments and backslashes are not folded', async () => {
    const { body } = await boundLogin();
    const jwk = createPublicKey(dpopKey).export({ format: 'jwk' });
    const rawProof = (htu: string) =>
      new SignJWT({
        jti: `j-${Math.random()}`,
        htm: 'GET',
        htu,
        iat: Math.floor(Date.now() / 1000),
        ath: athOf(body.accessToken),
      })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
        .sign(dpopKey);
    for (const path of [
      '/x/%2e%2e/probe/whoami',
      '/x/../probe/whoami',
      '/x\\..\\probe/whoami',
      '/probe/./whoami',
    ]) {
      expectCode(
        await whoami(t.server, `DPoP ${body.accessToken}`, { DPoP: await rawProof(url(path)) }),
        401,
        'DPOP_PROOF_INVALID',
      );
      expect(t.logs.failures().at(-1)?.reason).toBe('DPoP htu differs from the request URL');
    }
    // Percent-encoding of unreserved characters is normalised: %77 is w.
    const ok = await whoami(t.server, `DPoP ${body.accessToken}`, {
      DPoP: await rawProof(url('/probe/%77hoami')),
    });
    expect(ok.status).toBe(200);
  });

  it('refuses the DPoP scheme with an unbound token, and a proof of a made-up URL at the token endpoint', async () => {
    const plain = await challengeLogin(t.server, 'alice-ed', clientKey.privateKey, 'ed25519');
    expect(plain.body.tokenType).toBe('Bearer');
    const res = await whoami(t.server, `DPoP ${plain.body.accessToken}`, {
      DPoP: await proof('GET', '/probe/whoami', plain.body.accessToken),
    });
    expectCode(res, 401, 'DPOP_PROOF_INVALID');
    const wrongHtu = await challengeLogin(
      t.server,
      'alice-ed',
      clientKey.privateKey,
      'ed25519',
      {},
      {
        DPoP: await createDpopProof({
          privateKey: dpopKey,
          method: 'POST',
          url: 'https://elsewhere.example/auth/token',
        }),
      },
    );
    expectCode(wrongHtu, 401, 'DPOP_PROOF_INVALID');
  });
});

describe('DPoP htu against a configured origin', () => {
  let t: TestApp;
  const key = testKey('ed25519', 1);
  const dpopKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    t = await createTestApp({
      adapter: 'fastify',
      database: 'sqlite',
      controllers: TOKEN_CONTROLLERS,
      options: {
        origin: 'https://api.example.com',
        responseSigning: { keys: serverKeys().keys },
        tokens: { dpop: { required: true } },
      },
    });
    const bob = await t.addUser('bob', ['reader']);
    await t.registry.register(bob, key.publicPem, { keyId: 'bob-ed' });
  });
  afterAll(() => t.close());

  it('compares htu with origin + path, default port dropped; and tokens.dpop.required refuses unbound tokens', async () => {
    const unbound = await challengeLogin(t.server, 'bob-ed', key.privateKey, 'ed25519');
    expect([unbound.status, unbound.body.code]).toEqual([401, 'DPOP_PROOF_REQUIRED']);
    const { body } = await challengeLogin(
      t.server,
      'bob-ed',
      key.privateKey,
      'ed25519',
      {},
      {
        DPoP: await createDpopProof({
          privateKey: dpopKey,
          method: 'POST',
          url: 'https://API.example.com:443/auth/token',
        }),
      },
    );
    expect(body.tokenType).toBe('DPoP');
    const local = await createDpopProof({
      privateKey: dpopKey,
      method: 'GET',
      url: `${t.server}/probe/whoami`,
      accessToken: body.accessToken,
    });
    const refused = await whoami(t.server, `DPoP ${body.accessToken}`, { DPoP: local });
    expect([refused.status, refused.body.code]).toEqual([401, 'DPOP_PROOF_INVALID']);
    const configured = await createDpopProof({
      privateKey: dpopKey,
      method: 'GET',
      url: 'https://api.example.com/probe/whoami?x=1#f',
      accessToken: body.accessToken,
    });
    await whoami(t.server, `DPoP ${body.accessToken}`, { DPoP: configured }).expect(200);
  });
});
