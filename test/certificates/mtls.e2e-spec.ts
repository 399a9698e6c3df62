import { Agent } from 'node:https';
import { CertificateRegistry, encodeForwardedCertificate, IssuedCertificate } from '../../src';
import { jwtHeader } from '../support/auth';
import { createTestPki, send, SendResult, TestPki } from '../support/certificates';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';

/**
 * The Nest app serves HTTPS itself with requestCert (and rejectUnauthorized:
 * false, so a bad certificate reaches the strategy and gets a code instead of a
 * TLS alert), `clientCertificate: { source: 'tls' }`.
 */
describe.each(ADAPTERS)('native mutual TLS (%s)', (adapter) => {
  let pki: TestPki;
  let t: TestApp;
  const certs: Record<string, IssuedCertificate> = {};
  const get = (client?: IssuedCertificate, headers?: Record<string, string> | string[]) =>
    send(`${t.server}/probe/whoami`, { client, ca: pki.ca.rootPem, headers });
  const outcome = (res: SendResult) => (res.status === 200 ? res.body.username : res.body.code);

  beforeAll(async () => {
    pki = await createTestPki();
    certs.alice = await pki.issue('alice');
    certs.bob = await pki.issue('bob');
    certs.expired = await pki.issueExpired('expired');
    certs.other = await pki.issueFromOtherCa('alice');
    t = await createTestApp({
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
        clientCertificate: { source: 'tls', mapping: [{ by: 'fingerprint' }, { by: 'subject-cn' }] },
      },
    });
    const alice = await t.addUser('alice', ['reader']);
    await t.addUser('bob', ['reader']);
    await t.app.get(CertificateRegistry).register(alice, certs.alice.certPem, { roles: ['reader'] });
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await pki?.cleanup();
  });

  it('accepts a valid client certificate: by fingerprint, and by CN', async () => {
    const res = await get(certs.alice);
    expect([res.status, res.body]).toEqual([
      200,
      {
        username: 'alice',
        keyId: certs.alice.fingerprints.sha256Hex,
        method: 'client-certificate',
        roles: ['reader'],
      },
    ]);
    expect(outcome(await get(certs.bob))).toBe('bob');
  });

  it('refuses no certificate, another CA and an expired certificate, with codes', async () => {
    expect(outcome(await get())).toBe('CERT_MISSING');
    expect(outcome(await get(certs.other))).toBe('CERT_UNTRUSTED');
    expect(outcome(await get(certs.expired))).toBe('CERT_EXPIRED');
    const reasons = t.logs.failures().map((f) => f.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /TLS verification failed: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER)/,
        ),
        expect.stringMatching(/TLS verification failed: CERT_HAS_EXPIRED/),
      ]),
    );
  });

  it('refuses forwarded-certificate headers on its own TLS connections, even with a valid certificate', async () => {
    const forged = encodeForwardedCertificate('nginx', certs.alice.certificate);
    const res = await get(certs.bob, [...forged, 'X-SSL-Client-Verify', 'SUCCESS']);
    expect([res.status, res.body.code]).toEqual([400, 'CERT_HEADER_UNTRUSTED']);
  });

  it('leaves a certificate-less request with a JWT to the JWT strategy', async () => {
    const key = testKey('ed25519', 4);
    const alice = (await t.registry.directory.findByUsername('alice'))!;
    const view = await t.registry.register(alice, key.publicPem);
    const res = await get(undefined, { authorization: await jwtHeader(key.privateKey, 'alice', view.keyId) });
    expect([res.status, res.body.method]).toEqual([200, 'jwt']);
  });
});

describe('native mutual TLS, re-verified against caBundle (express)', () => {
  let pki: TestPki;
  let t: TestApp;
  const certs: Record<string, IssuedCertificate> = {};
  const get = (client?: IssuedCertificate) =>
    send(`${t.server}/probe/whoami`, { client, ca: pki.ca.rootPem });

  beforeAll(async () => {
    pki = await createTestPki();
    certs.alice = await pki.issue('alice');
    certs.other = await pki.issueFromOtherCa('alice');
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      httpsOptions: {
        key: pki.server.keyPem,
        cert: pki.server.certPem + pki.server.chainPem,
        // Node trusts the other CA only: the strategy decides with its own caBundle.
        ca: pki.otherCa.caBundlePem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      options: {
        clientCertificate: {
          source: 'tls',
          // Only the root: the intermediate has to come from the chain the client sent.
          caBundle: pki.ca.rootPem,
          mapping: { by: 'subject-cn' },
        },
      },
    });
    await t.addUser('alice', ['reader']);
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await pki?.cleanup();
  });

  it('accepts a client Node did not authorize when its own verification passes, using the peer chain', async () => {
    const res = await get(certs.alice);
    expect([res.status, res.body.username]).toEqual([200, 'alice']);
  });

  it('keeps the peer chain on a keep-alive connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await send(`${t.server}/probe/whoami`, {
          client: certs.alice,
          ca: pki.ca.rootPem,
          agent,
        });
        expect([res.status, res.body.username]).toEqual([200, 'alice']);
      }
    } finally {
      agent.destroy();
    }
  });

  it('refuses a client Node authorized when its own verification fails', async () => {
    const res = await get(certs.other);
    expect([res.status, res.body.code]).toEqual([401, 'CERT_UNTRUSTED']);
  });
});
