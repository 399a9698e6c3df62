import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { seedClaims, sign } from '../support/tokens';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * Which JWS algorithms a registered RSA key accepts, by how it was registered: without
 * an algorithm the RS family (RS256/RS384/RS512); with `algorithm` (the CLI's --alg) or
 * as a JWK that names its `alg`, exactly that one; a key registered before the
 * algorithmDefaulted column existed (the migration gives it false) stays pinned.
 */
describe('JWT algorithms of RSA keys by registration', () => {
  let t: TestApp;
  const keys = Array.from({ length: 4 }, () => generateKeyPairSync('rsa', { modulusLength: 2048 }));
  const [plain, explicit, jwkWithAlg, legacy] = keys;

  beforeAll(async () => {
    t = await createTestApp({ adapter: 'express', database: 'sqlite' });
    const user = await t.addUser('rsa-user', ['reader']);
    const pem = (k: (typeof keys)[number]) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await t.registry.register(user, pem(plain), { keyId: 'plain' });
    await t.registry.register(user, pem(explicit), { keyId: 'explicit', algorithm: 'rsa-v1_5-sha256' });
    await t.registry.register(
      user,
      { ...jwkWithAlg.publicKey.export({ format: 'jwk' }), alg: 'RS256' },
      {
        keyId: 'jwk-alg',
      },
    );
    await t.registry.register(user, pem(legacy), { keyId: 'legacy' });
    // As a row written before the column existed reads after the migration.
    await t.dataSource.query(
      `UPDATE keypair_auth_public_keys SET "algorithmDefaulted" = false WHERE "keyId" = 'legacy'`,
    );
  });
  afterAll(() => t.close());

  const call = async (key: (typeof keys)[number], kid: string, alg: string) => {
    const token = await sign(key.privateKey, { alg, kid }, seedClaims('rsa-user'));
    const res = await request(t.server).get('/probe/whoami').set('Authorization', `JWT ${token}`);
    return [res.status, res.body.code ?? res.body.username];
  };

  it.each(['RS256', 'RS384', 'RS512'])('a key registered without an algorithm accepts %s', async (alg) => {
    expect(await call(plain, 'plain', alg)).toEqual([200, 'rsa-user']);
  });

  it.each([
    ['explicit', explicit],
    ['jwk-alg', jwkWithAlg],
    ['legacy', legacy],
  ] as const)('the %s key accepts RS256 only (RS384, RS512, PS256 are 401)', async (kid, key) => {
    expect(await call(key, kid, 'RS256')).toEqual([200, 'rsa-user']);
    for (const alg of ['RS384', 'RS512', 'PS256']) {
      expect([alg, ...(await call(key, kid, alg))]).toEqual([alg, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
    }
    expect(t.logs.failures().at(-1)?.reason).toMatch(new RegExp(`key ${kid} is pinned to rsa-v1_5-sha256`));
  });
});
