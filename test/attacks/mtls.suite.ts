import { ClientCertificateAuthenticator, IssuedCertificate, revoke } from '../../src';
import { createTestPki, send, TestPki } from '../support/certificates';
import { hostileChain, HostileChain } from '../support/hostile-chain';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import { serverKeys, TOKEN_CONTROLLERS } from '../tokens/token-test-support';
import { attackSuite } from './attack-suite';

interface MtlsEnv {
  readonly t: TestApp;
  readonly pki: TestPki;
  /** Leaf CN=mallory (an existing account) plus 12 self-issued look-alikes of our root. */
  readonly hostile: HostileChain;
  /** CN=alice, an account, valid and not revoked until a case revokes it. */
  readonly alice: IssuedCertificate;
}

/** The hostile chain as what `send` presents: the leaf, then every chain certificate. */
const asClient = (chain: HostileChain): IssuedCertificate =>
  ({ certPem: chain.certPem, chainPem: chain.chainPem, keyPem: chain.keyPem }) as IssuedCertificate;

/**
 * Native mutual TLS, re-verified against caBundle: the app serves HTTPS with requestCert
 * (rejectUnauthorized false, so the strategy decides and answers with a code).
 */
export const MTLS_SUITE = attackSuite<MtlsEnv>({
  name: 'native mTLS with caBundle',
  setup: async (adapter: AdapterName) => {
    const pki = await createTestPki();
    const t = await createTestApp({
      adapter,
      database: 'sqlite',
      controllers: TOKEN_CONTROLLERS,
      httpsOptions: {
        key: pki.server.keyPem,
        cert: pki.server.certPem + pki.server.chainPem,
        ca: pki.ca.caBundlePem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      options: {
        clientCertificate: {
          source: 'tls',
          caBundle: pki.ca.caBundlePem,
          crlFile: pki.crlPath,
          mapping: [{ by: 'fingerprint' }, { by: 'subject-cn' }],
        },
        responseSigning: { keys: serverKeys().keys },
        tokens: {},
      },
    });
    await t.addUser('mallory', ['reader']);
    await t.addUser('alice', ['reader']);
    const alice = await pki.issue('alice');
    return { t, pki, alice, hostile: await hostileChain(12, 'Test Root') };
  },
  teardown: async (env) => {
    await env.t.close();
    await env.pki.cleanup();
  },
  cases: [
    {
      name: 'mtls/hostile-chain-12-look-alike-cas',
      attack:
        'a TLS client chain of a leaf plus 12 self-issued CAs sharing one name and key, which made ' +
        'path building explore every path (190-450 ms of main thread per request); repeated',
      request: 'GET /probe/whoami x3 over TLS with the hostile chain, no account key needed',
      expect: { status: 401, code: 'CERT_UNTRUSTED' },
      run: async (env) => {
        const get = () =>
          send(`${env.t.server}/probe/whoami`, { client: asClient(env.hostile), ca: env.pki.ca.rootPem });
        await get();
        await get();
        return get();
      },
    },
    {
      name: 'mtls/access-token-of-crl-revoked-certificate',
      attack:
        'mint an access token with a client certificate, have the certificate revoked in the CRL, ' +
        'then keep using the token (no certificate on the request)',
      request: 'POST /auth/token over mTLS; ca revoke + CRL reload; GET /probe/whoami with Bearer',
      expect: { status: 401, code: 'CERT_REVOKED' },
      run: async (env) => {
        const minted = await send(`${env.t.server}/auth/token`, {
          method: 'POST',
          client: env.alice,
          ca: env.pki.ca.rootPem,
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        const token = minted.body.accessToken;
        if (minted.status !== 200 || typeof token !== 'string') {
          throw new Error(`minting failed: ${minted.status} ${minted.text}`);
        }
        const bearer = () =>
          send(`${env.t.server}/probe/whoami`, {
            ca: env.pki.ca.rootPem,
            headers: { authorization: `Bearer ${token}` },
          });
        const before = await bearer();
        if (before.status !== 200) throw new Error(`token refused before revocation: ${before.text}`);
        await revoke(env.pki.ca.layout.dir, env.alice.serialNumber);
        await env.t.app.get(ClientCertificateAuthenticator).reloadCrl();
        return bearer();
      },
    },
  ],
});
