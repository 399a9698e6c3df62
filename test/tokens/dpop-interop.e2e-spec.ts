import { constants, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as DPoP from 'dpop';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { TOKEN_CONTROLLERS, challengeLogin, serverKeys, whoami } from './token-test-support';

/**
 * DPoP proofs made by panva's `dpop` package (WebCrypto keys it generates itself):
 * PS256 (RSASSA-PSS) and Ed25519 (the RFC 9864 name, an alias of EdDSA here). The token
 * is bound to the proof's key, a resource call with a fresh proof is 200, and a
 * replayed proof or one by another key is refused.
 */
describe.each(ADAPTERS)('DPoP proofs by the dpop package, on %s', (adapter) => {
  let t: TestApp;
  const server = serverKeys();
  const clientKey = testKey('ed25519', 0);

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      controllers: TOKEN_CONTROLLERS,
      options: { responseSigning: { keys: server.keys }, tokens: {} },
    });
    const alice = await t.addUser('alice', ['reader']);
    await t.registry.register(alice, clientKey.publicPem, { keyId: 'alice-ed' });
  });
  afterAll(() => t.close());

  const expectCode = (res: { status: number; body: { code?: string } }, status: number, code: string) =>
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });

  it.each(['PS256', 'Ed25519'] as const)(
    'a %s proof binds the token, a fresh proof uses it (200); a replay or another key is refused',
    async (alg) => {
      const keyPair = await DPoP.generateKeyPair(alg);
      const tokenProof = await DPoP.generateProof(keyPair, `${t.server}/auth/token`, 'POST');
      expect(decodeProtectedHeader(tokenProof).alg).toBe(alg);
      const { status, body } = await challengeLogin(
        t.server,
        'alice-ed',
        clientKey.privateKey,
        'ed25519',
        {},
        { DPoP: tokenProof },
      );
      expect([status, body.tokenType]).toEqual([200, 'DPoP']);
      const at = body.accessToken;
      expect(decodeJwt(at).cnf).toEqual({ jkt: await DPoP.calculateThumbprint(keyPair.publicKey) });

      const proof = await DPoP.generateProof(keyPair, `${t.server}/probe/whoami`, 'GET', undefined, at);
      const me = await whoami(t.server, `DPoP ${at}`, { DPoP: proof });
      expect([me.status, me.body.username, me.body.method]).toEqual([200, 'alice', 'access-token']);
      expectCode(await whoami(t.server, `DPoP ${at}`, { DPoP: proof }), 401, 'REPLAYED');

      const other = await DPoP.generateKeyPair(alg);
      const wrongKey = await DPoP.generateProof(other, `${t.server}/probe/whoami`, 'GET', undefined, at);
      expectCode(await whoami(t.server, `DPoP ${at}`, { DPoP: wrongKey }), 401, 'DPOP_PROOF_INVALID');
      expect(t.logs.failures().at(-1)?.reason).toMatch(/not the key the token is bound to/);
    },
  );

  it('refuses a PS256 proof by an RSA key under 2048 bits', async () => {
    // The package and jose refuse to sign with such a key; node:crypto does it by hand.
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${b64({ typ: 'dpop+jwt', alg: 'PS256', jwk: small.publicKey.export({ format: 'jwk' }) })}.${b64(
      {
        jti: randomUUID(),
        htm: 'POST',
        htu: `${t.server}/auth/token`,
        iat: Math.floor(Date.now() / 1000),
      },
    )}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: small.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    const { status, body } = await challengeLogin(
      t.server,
      'alice-ed',
      clientKey.privateKey,
      'ed25519',
      {},
      {
        DPoP: `${input}.${signature.toString('base64url')}`,
      },
    );
    expect([status, (body as { code?: string }).code]).toEqual([401, 'DPOP_PROOF_INVALID']);
    expect(t.logs.failures().at(-1)?.reason).toMatch(/RSA key of 1024 bits/);
  });
});
