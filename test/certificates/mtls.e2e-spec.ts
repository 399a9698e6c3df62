import { Agent } from 'node:https';
import { CertificateRegistry, encodeForwardedCertificate, IssuedCertificate } from '../../src';
import { jwtHeader } from '../support/auth';
import {
  ClientCredentials,
  craftUnusualClient,
  createTestPki,
  send,
  SendResult,
  TestPki,
} from '../support/certificates';
import { tlsGet } from '../support/tls-get';
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
  let noCa: TestApp;
  const certs: Record<string, IssuedCertificate> = {};
  const get = (client?: IssuedCertificate, app = t) =>
    send(`${app.server}/probe/whoami`, { client, ca: pki.ca.rootPem });

  beforeAll(async () => {
    pki = await createTestPki();
    certs.alice = await pki.issue('alice');
    certs.other = await pki.issueFromOtherCa('alice');
    const clientCertificate = {
      source: 'tls' as const,
      // Only the root: the intermediate has to come from the chain the client sent.
      caBundle: pki.ca.rootPem,
      mapping: { by: 'subject-cn' as const },
    };
    const https = {
      key: pki.server.keyPem,
      cert: pki.server.certPem + pki.server.chainPem,
      requestCert: true,
      rejectUnauthorized: false,
    };
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      // Node trusts our root and the other CA: the strategy's caBundle (our root only) must agree too.
      httpsOptions: { ...https, ca: pki.ca.rootPem + pki.otherCa.caBundlePem },
      options: { clientCertificate },
    });
    // A server given no ca: Node's verdict (public roots) says nothing, caBundle alone decides.
    noCa = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      httpsOptions: https,
      options: { clientCertificate },
    });
    await t.addUser('alice', ['reader']);
    await noCa.addUser('alice', ['reader']);
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await noCa?.close();
    await pki?.cleanup();
  });

  it('accepts a client both Node and caBundle accept, using the peer chain', async () => {
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

  it('on a server given no ca, caBundle alone decides: our client passes, another CA does not', async () => {
    expect([(await get(certs.alice, noCa)).body.username, (await get(certs.other, noCa)).body.code]).toEqual([
      'alice',
      'CERT_UNTRUSTED',
    ]);
  });
});

/**
 * Red team 5, F2: with caBundle the strategy used to ignore Node's verdict, and its own
 * verifier neither enforced name constraints nor had a floor for keys and signatures.
 * The server is set up as docs/client-certificates.md says (ca = the CA bundle).
 */
describe.each([true, false])(
  'native mutual TLS, certificates OpenSSL refuses (caBundle %s)',
  (withCaBundle) => {
    let pki: TestPki;
    let t: TestApp;
    let constrained: ClientCredentials;
    let weak: ClientCredentials;
    const port = () => Number(new URL(t.server).port);

    beforeAll(async () => {
      pki = await createTestPki();
      constrained = craftUnusualClient(pki, 'nameConstrained', 'admin');
      weak = craftUnusualClient(pki, 'weak', 'weakling');
      t = await createTestApp({
        adapter: 'express',
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
            ...(withCaBundle ? { caBundle: pki.ca.caBundlePem } : {}),
            mapping: [{ by: 'san-dns', suffix: '.attacker.test' }, { by: 'subject-cn' }],
          },
        },
      });
      await t.addUser('admin', ['admin']);
      await t.addUser('weakling', ['reader']);
    }, 60_000);
    afterAll(async () => {
      await t?.close();
      await pki?.cleanup();
    });

    it('RED CASE (red-team 5 F2): a leaf outside the non-critical name constraints of its intermediate is refused', async () => {
      const res = await tlsGet(port(), '/probe/whoami', { client: constrained, ca: pki.ca.rootPem });
      expect([res.status, JSON.parse(res.body).code]).toEqual([
        401,
        withCaBundle ? 'CERT_UNTRUSTED' : 'CERT_VERIFY_FAILED',
      ]);
    });

    it('RED CASE (red-team 5 F2): an RSA-1024 leaf signed with SHA-1 by our intermediate is refused', async () => {
      const res = await tlsGet(port(), '/probe/whoami', {
        client: weak,
        ca: pki.ca.rootPem,
        maxVersion: 'TLSv1.2',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      expect(res.status).toBe(401);
      if (withCaBundle) expect(JSON.parse(res.body).code).toBe('CERT_UNTRUSTED');
    });
  },
);
