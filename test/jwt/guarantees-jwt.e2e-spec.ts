import request from 'supertest';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { seedClaims, sign } from '../support/tokens';

const AUDIENCE = 'https://api.example.test';

/**
 * The optional requirements of client JWTs: `jwt.audience` makes `aud` required (not only
 * checked when present) and `jwt.requireRequestBinding` makes `htm`/`htu` required.
 */
describe.each(ADAPTERS)('client JWT requirements that options switch on, on %s', (adapter) => {
  let t: TestApp;
  const key = testKey('ed25519', 0);

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      options: { jwt: { audience: AUDIENCE, requireRequestBinding: true } },
    });
    await t.registry.register(await t.addUser('alice', ['reader']), key.publicPem, { keyId: 'alice-ed' });
  });
  afterAll(() => t?.close());

  const whoami = async (claims: Record<string, unknown>) => {
    const token = await sign(key.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice', claims));
    const res = await request(t.server).get('/probe/whoami').set('Authorization', `JWT ${token}`);
    return [res.status, res.body.code ?? res.body.username];
  };
  const binding = () => ({ htm: 'GET', htu: `${t.server}/probe/whoami` });

  it('accepts a token with the audience and the request binding (control)', async () => {
    expect(await whoami({ aud: AUDIENCE, ...binding() })).toEqual([200, 'alice']);
  });

  it('jwt.audience: a token without aud is AUDIENCE_INVALID', async () => {
    expect(await whoami(binding())).toEqual([401, 'AUDIENCE_INVALID']);
  });

  it.each([
    ['neither htm nor htu', {}],
    ['htm only', { htm: 'GET' }],
    ['htu only', { htu: 'BINDING' }],
  ])('jwt.requireRequestBinding: a token with %s is REQUEST_BINDING_MISMATCH', async (_what, claims) => {
    const withUrl = Object.fromEntries(
      Object.entries(claims).map(([k, v]) => [k, v === 'BINDING' ? binding().htu : v]),
    );
    expect(await whoami({ aud: AUDIENCE, ...withUrl })).toEqual([401, 'REQUEST_BINDING_MISMATCH']);
  });
});
