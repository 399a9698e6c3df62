import type { IssuedCertificate } from '../../src';
import { createTestPki, send, TestPki } from '../support/certificates';
import { hostileChain, HostileChain } from '../support/hostile-chain';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import { attackSuite } from './attack-suite';

interface MtlsEnv {
  readonly t: TestApp;
  readonly pki: TestPki;
  /** Leaf CN=mallory (an existing account) plus 12 self-issued look-alikes of our root. */
  readonly hostile: HostileChain;
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
          caBundle: pki.ca.rootPem,
          mapping: [{ by: 'fingerprint' }, { by: 'subject-cn' }],
        },
      },
    });
    await t.addUser('mallory', ['reader']);
    return { t, pki, hostile: await hostileChain(12, 'Test Root') };
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
  ],
});
