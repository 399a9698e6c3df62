import { X509Certificate } from 'node:crypto';
import { ClientCertificateAuthenticator, IssuedCertificate, revoke } from '../../src';
import { craftUnusualClient, createTestPki, send, TestPki } from '../support/certificates';
import { tlsGet } from '../support/tls-get';
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

/** A raw tlsGet answer in the shape the harness compares (status and JSON code). */
const asResult = (r: { status: number; body: string }) => {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(r.body) as Record<string, unknown>;
  } catch {
    // not JSON: the status alone says what happened
  }
  return { status: r.status, headers: {}, text: r.body, body };
};

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
      name: 'mtls/name-constrained-intermediate-leaf-outside',
      attack:
        'RED CASE (red-team 5 F2): an intermediate issued by the real root with a NON-critical ' +
        'nameConstraints extension (permitted example.com) issues a leaf CN=mallory, SAN ' +
        'DNS:mallory.attacker.test, outside it; Node refuses it, the app used to accept it',
      request: 'GET /probe/whoami over TLS with that leaf and its intermediate',
      expect: { status: 401, code: 'CERT_UNTRUSTED' },
      run: (env) =>
        tlsGet(Number(new URL(env.t.server).port), '/probe/whoami', {
          client: craftUnusualClient(env.pki, 'nameConstrained', 'mallory'),
          ca: env.pki.ca.rootPem,
        }).then(asResult),
    },
    {
      name: 'mtls/weak-rsa-1024-sha1-leaf',
      attack:
        'RED CASE (red-team 5 F2): an RSA-1024 leaf CN=mallory signed with SHA-1 by the real ' +
        'intermediate (the client lowers its own security level to send it)',
      request: 'GET /probe/whoami over TLS 1.2 with that leaf, ciphers DEFAULT@SECLEVEL=0',
      expect: { status: 401, code: 'CERT_UNTRUSTED' },
      run: (env) =>
        tlsGet(Number(new URL(env.t.server).port), '/probe/whoami', {
          client: craftUnusualClient(env.pki, 'weak', 'mallory'),
          ca: env.pki.ca.rootPem,
          maxVersion: 'TLSv1.2',
          ciphers: 'DEFAULT@SECLEVEL=0',
        }).then(asResult),
    },
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

interface ProxyFormatsEnv {
  readonly pki: TestPki;
  /** format 'haproxy', verdict from %[ssl_c_verify], chain from %[ssl_c_chain_der,base64]. */
  readonly t: TestApp;
  /** format 'apache', chain from SSL_CLIENT_CERT_CHAIN_0..n. */
  readonly apache: TestApp;
  /** CN=alice from our CA; caBundle holds only our root, so the intermediate must come from the chain. */
  readonly alice: IssuedCertificate;
  /** CN=alice from another CA, with that CA's intermediate and root. */
  readonly rogue: IssuedCertificate;
}

const HAPROXY_CHAIN = 'x-ssl-client-chain';
const APACHE_CHAIN = 'ssl_client_cert_chain_';
const derOf = (pem: string) => new X509Certificate(pem).raw;
/** What HAProxy sends for %[ssl_c_der,base64], %[ssl_c_chain_der,base64] and %[ssl_c_verify]. */
const haproxyHeaders = (cert: IssuedCertificate, verify: string, chainPems: string[] = [cert.chainPem]) => [
  'x-ssl-client-cert',
  cert.certificate.raw.toString('base64'),
  HAPROXY_CHAIN,
  Buffer.concat(chainPems.map(derOf)).toString('base64'),
  'x-ssl-client-verify',
  verify,
];
/** What Apache mod_headers sends for "%{SSL_CLIENT_CERT}s": the PEM with its newlines as spaces. */
const apachePem = (pem: string) => pem.replace(/\n/g, ' ').trimEnd();
const apacheHeaders = (cert: IssuedCertificate, chain: [string, string][]) => [
  'SSL_CLIENT_CERT',
  apachePem(cert.certPem),
  'SSL_CLIENT_VERIFY',
  'SUCCESS',
  ...chain.flat(),
];
const whoamiVia = (app: TestApp, headers: string[]) =>
  send(`${app.server}/probe/whoami`, { headers, localAddress: '127.0.0.1' });
const haproxyVerdict = (
  slug: string,
  verdict: string,
  expect: { status: number; code: string },
  why: string,
) => ({
  name: `proxies/haproxy-verdict-${slug}`,
  attack: `HAProxy's numeric ssl_c_verify read loosely: ${why}`,
  request: `X-SSL-Client-Verify: ${JSON.stringify(verdict)} with a valid certificate and chain`,
  expect,
  run: (env: ProxyFormatsEnv) => whoamiVia(env.t, haproxyHeaders(env.alice, verdict)),
});
const MALFORMED = { status: 400, code: 'CERT_HEADER_MALFORMED' };

/**
 * Formats whose verdict or chain is read in a proxy-specific way: HAProxy's numeric
 * verdict (only "0" passes) and its DER chain, Apache's numbered chain headers. caBundle
 * holds only the root: a forwarded intermediate helps build the path, never anchors it.
 */
export const PROXY_FORMATS_SUITE = attackSuite<ProxyFormatsEnv>({
  name: 'haproxy and apache verdicts and chains',
  setup: async (adapter: AdapterName) => {
    const pki = await createTestPki();
    const common = {
      trustedProxies: ['127.0.0.1'],
      caBundle: pki.ca.rootPem,
      mapping: [{ by: 'fingerprint' as const }, { by: 'subject-cn' as const }],
    };
    const haproxy = await createTestApp({
      adapter,
      database: 'sqlite',
      options: {
        clientCertificate: {
          ...common,
          format: 'haproxy',
          verifyHeader: 'x-ssl-client-verify',
          chainHeader: HAPROXY_CHAIN,
        },
      },
    });
    const apache = await createTestApp({
      adapter,
      database: 'sqlite',
      options: { clientCertificate: { ...common, format: 'apache', chainHeader: APACHE_CHAIN } },
    });
    for (const app of [haproxy, apache]) await app.addUser('alice', ['reader']);
    const alice = await pki.issue('alice');
    const rogue = await pki.issueFromOtherCa('alice');
    return { pki, t: haproxy, apache, alice, rogue };
  },
  teardown: async (env) => {
    await env.t.close();
    await env.apache.close();
    await env.pki.cleanup();
  },
  cases: [
    haproxyVerdict('leading-zero', '00', MALFORMED, 'a zero with a leading zero'),
    haproxyVerdict('plus-zero', '+0', MALFORMED, 'a signed zero'),
    haproxyVerdict('minus-zero', '-0', MALFORMED, 'a negative zero'),
    haproxyVerdict('hex-zero', '0x0', MALFORMED, 'a hexadecimal zero'),
    haproxyVerdict('decimal-zero', '0.0', MALFORMED, 'a decimal zero'),
    haproxyVerdict('two-zeros', '0 0', MALFORMED, 'two zeros'),
    haproxyVerdict('success-word', 'SUCCESS', MALFORMED, "nginx's word for success"),
    haproxyVerdict('wraps-to-zero', '18446744073709551616', MALFORMED, 'a number that wraps to 0 in 64 bits'),
    haproxyVerdict('error-20', '20', { status: 401, code: 'CERT_VERIFY_FAILED' }, 'a verify error code'),
    haproxyVerdict('empty', '', { status: 401, code: 'CERT_MISSING' }, 'an empty verdict (no TLS)'),
    {
      name: 'proxies/haproxy-chain-rogue-anchor',
      attack: 'a certificate of another CA forwarded with its own root in the chain, hoping it anchors',
      request: 'X-SSL-Client-Chain: other intermediate + other root (DER), verdict 0',
      expect: { status: 401, code: 'CERT_UNTRUSTED' },
      run: (env) =>
        whoamiVia(
          env.t,
          haproxyHeaders(env.rogue, '0', [env.pki.otherCa.intermediatePem, env.pki.otherCa.rootPem]),
        ),
    },
    {
      name: 'proxies/haproxy-chain-too-long',
      attack: 'a forwarded DER chain of six certificates, to make path building work harder',
      request: 'X-SSL-Client-Chain: the intermediate six times',
      expect: MALFORMED,
      run: (env) => whoamiVia(env.t, haproxyHeaders(env.alice, '0', Array(6).fill(env.alice.chainPem))),
    },
    {
      name: 'proxies/haproxy-chain-trailing-bytes',
      attack: 'bytes after the last DER certificate of the chain',
      request: 'X-SSL-Client-Chain: base64(intermediate DER + 00 00)',
      expect: MALFORMED,
      run: (env) => {
        const headers = haproxyHeaders(env.alice, '0');
        headers[3] = Buffer.concat([derOf(env.alice.chainPem), Buffer.from([0, 0])]).toString('base64');
        return whoamiVia(env.t, headers);
      },
    },
    {
      name: 'proxies/apache-chain-rogue-anchor',
      attack: 'a certificate of another CA forwarded with its own root as a chain element',
      request: 'SSL_CLIENT_CERT_CHAIN_0/1: other intermediate, other root',
      expect: { status: 401, code: 'CERT_UNTRUSTED' },
      run: (env) =>
        whoamiVia(
          env.apache,
          apacheHeaders(env.rogue, [
            [`${APACHE_CHAIN}0`, apachePem(env.pki.otherCa.intermediatePem)],
            [`${APACHE_CHAIN}1`, apachePem(env.pki.otherCa.rootPem)],
          ]),
        ),
    },
    {
      name: 'proxies/apache-chain-too-long',
      attack: 'more numbered chain headers than the chain limit (5)',
      request: 'SSL_CLIENT_CERT_CHAIN_0..5: the intermediate six times',
      expect: MALFORMED,
      run: (env) =>
        whoamiVia(
          env.apache,
          apacheHeaders(
            env.alice,
            [0, 1, 2, 3, 4, 5].map((i): [string, string] => [
              `${APACHE_CHAIN}${i}`,
              apachePem(env.alice.chainPem),
            ]),
          ),
        ),
    },
    {
      name: 'proxies/apache-chain-gap',
      attack: 'a chain element after an empty one: a header the proxy did not set',
      request: 'SSL_CLIENT_CERT_CHAIN_0: (null), SSL_CLIENT_CERT_CHAIN_1: the intermediate',
      expect: MALFORMED,
      run: (env) =>
        whoamiVia(
          env.apache,
          apacheHeaders(env.alice, [
            [`${APACHE_CHAIN}0`, '(null)'],
            [`${APACHE_CHAIN}1`, apachePem(env.alice.chainPem)],
          ]),
        ),
    },
    {
      name: 'proxies/apache-chain-index-leading-zero',
      attack: 'a chain header numbered 01, which a loose reader would take for 1',
      request: 'SSL_CLIENT_CERT_CHAIN_0 and SSL_CLIENT_CERT_CHAIN_01',
      expect: MALFORMED,
      run: (env) =>
        whoamiVia(
          env.apache,
          apacheHeaders(env.alice, [
            [`${APACHE_CHAIN}0`, apachePem(env.alice.chainPem)],
            [`${APACHE_CHAIN}01`, apachePem(env.alice.chainPem)],
          ]),
        ),
    },
    {
      name: 'proxies/apache-chain-duplicated-element',
      attack: 'the same chain element twice, one from the client',
      request: 'SSL_CLIENT_CERT_CHAIN_0 twice',
      expect: { status: 400, code: 'CERT_HEADER_DUPLICATED' },
      run: (env) =>
        whoamiVia(
          env.apache,
          apacheHeaders(env.alice, [
            [`${APACHE_CHAIN}0`, apachePem(env.alice.chainPem)],
            [`${APACHE_CHAIN}0`, apachePem(env.pki.otherCa.rootPem)],
          ]),
        ),
    },
  ],
});
