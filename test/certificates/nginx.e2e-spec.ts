import { createServer, Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CertificateRegistry,
  ClientCertificateAuthenticator,
  encodeForwardedCertificate,
  IssuedCertificate,
  parseClientVerifyStatus,
  parseDistinguishedName,
  readCertificateSubject,
  requireSingleCn,
} from '../../src';
import { runCli } from '../../src/cli/cli-program';
import { haveService } from '../setup/services';
import { jwtHeader } from '../support/auth';
import {
  createTestPki,
  HOSTILE_CN_OUTCOME,
  HOSTILE_SUBJECTS,
  send,
  SendResult,
  TestPki,
} from '../support/certificates';
import { testKey } from '../support/keys';
import { RunningNginx, startNginx } from '../support/nginx';
import { freePort, REPO } from '../support/processes';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';

/**
 * A real nginx (Debian's nginx-light) terminates mutual TLS in front of the Nest
 * app, with certificates from our CA and the header snippet shipped in
 * examples/nginx. nginx connects to the app from 127.0.0.2 (proxy_bind), the only
 * trusted proxy; this test process connects from 127.0.0.1, so anything it sends
 * straight to the app comes from an untrusted peer.
 *
 * Two TLS servers: `strict` (ssl_verify_client on: nginx refuses bad certificates
 * itself) and `lenient` (optional_no_ca: nginx forwards its verdict and the app
 * answers with a code).
 */
const describeIfNginx = haveService('nginx') ? describe : describe.skip;
if (!haveService('nginx')) {
  console.warn('SKIPPING client certificates through nginx: nginx not found (apt-get install nginx-light)');
}

const CAPTURES = join(REPO, 'test/fixtures/certificates/captures');

describeIfNginx.each(ADAPTERS)('client certificates through a real nginx (%s)', (adapter) => {
  let pki: TestPki;
  let t: TestApp;
  let nginx: RunningNginx;
  let capture: Server;
  let captured: string[][] = [];
  let strict: string;
  let lenient: string;
  const certs: Record<string, IssuedCertificate> = {};

  const viaNginx = (
    base: string,
    path: string,
    client?: IssuedCertificate,
    headers?: Record<string, string>,
  ) => send(`${base}${path}`, { client, ca: pki.ca.rootPem, headers });
  const outcome = (res: SendResult) => (res.status === 200 ? res.body.username : res.body.code);

  beforeAll(async () => {
    pki = await createTestPki();
    certs.admin = await pki.issue('admin');
    certs.alice = await pki.issue('alice');
    certs.bob = await pki.issue('bob');
    certs.carol = await pki.issue('carol');
    certs.dave = await pki.issue('dave');
    certs.expired = await pki.issueExpired('expired');
    certs.other = await pki.issueFromOtherCa('alice');
    for (const [name, subject] of Object.entries(HOSTILE_SUBJECTS)) {
      certs[name] = await pki.issue(`hostile-${name}`, { subject });
    }

    t = await createTestApp({
      adapter,
      database: 'sqlite',
      options: {
        clientCertificate: {
          format: 'nginx',
          trustedProxies: ['127.0.0.2'],
          caBundle: pki.caBundlePath,
          crlFile: pki.crlPath,
          mapping: [{ by: 'fingerprint' }, { by: 'subject-cn' }],
        },
      },
    });
    const admin = await t.addUser('admin', ['admin', 'reader']);
    for (const name of ['alice', 'bob', 'carol', 'dave', 'mallory']) await t.addUser(name, ['reader']);
    // Bootstrap: the first admin certificate is registered in code; everything else goes through the API.
    await t.app.get(CertificateRegistry).register(admin, certs.admin.certPem, { label: 'bootstrap' });

    capture = createServer((req, res) => {
      captured.push(req.rawHeaders);
      res.end('{}');
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    const [strictPort, lenientPort] = [await freePort(), await freePort()];
    nginx = await startNginx({
      servers: [
        { port: strictPort, verifyClient: 'on' },
        { port: lenientPort, verifyClient: 'optional_no_ca' },
      ],
      upstreamPort: Number(new URL(t.server).port),
      capturePort: (capture.address() as { port: number }).port,
      proxyBind: '127.0.0.2',
      serverCertPath: pki.server.files.fullChain,
      serverKeyPath: pki.server.files.key,
      clientCaPath: pki.caBundlePath,
    });
    strict = `https://127.0.0.1:${strictPort}`;
    lenient = `https://127.0.0.1:${lenientPort}`;
  }, 30_000);

  afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => capture?.close(resolve));
    await t?.close();
    await pki?.cleanup();
  });

  it('registers a certificate through the admin API (as an admin certificate) and maps it to its user', async () => {
    const registered = await send(`${strict}/admin/users/alice/certificates`, {
      method: 'POST',
      client: certs.admin,
      ca: pki.ca.rootPem,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ certificate: certs.alice.certPem, label: 'laptop', roles: ['reader'] }),
    });
    expect([registered.status, registered.body.fingerprint]).toEqual([
      201,
      certs.alice.fingerprints.sha256Hex,
    ]);

    for (const base of [strict, lenient]) {
      const res = await viaNginx(base, '/probe/whoami', certs.alice);
      expect([res.status, res.body]).toEqual([
        200,
        {
          username: 'alice',
          keyId: certs.alice.fingerprints.sha256Hex,
          method: 'client-certificate',
          roles: ['reader'],
        },
      ]);
    }
    const listed = await viaNginx(strict, '/admin/users/alice/certificates', certs.admin);
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.text)).toEqual([expect.objectContaining({ label: 'laptop', revokedAt: null })]);
  });

  it('maps an unregistered certificate by its one CN to an existing user', async () => {
    expect(outcome(await viaNginx(strict, '/probe/whoami', certs.bob))).toBe('bob');
  });

  it('no certificate: nginx refuses it (on); the app says CERT_MISSING (optional_no_ca)', async () => {
    const byNginx = await viaNginx(strict, '/probe/whoami');
    expect([byNginx.status, byNginx.text]).toEqual([
      400,
      expect.stringContaining('No required SSL certificate'),
    ]);
    const byApp = await viaNginx(lenient, '/probe/whoami');
    expect([byApp.status, byApp.body.code]).toEqual([401, 'CERT_MISSING']);
  });

  it('a certificate from another CA: refused by nginx (on), CERT_UNTRUSTED from the app (optional_no_ca)', async () => {
    const byNginx = await viaNginx(strict, '/probe/whoami', certs.other);
    expect([byNginx.status, byNginx.text]).toEqual([400, expect.stringContaining('SSL certificate error')]);
    const byApp = await viaNginx(lenient, '/probe/whoami', certs.other);
    expect([byApp.status, byApp.body.code]).toEqual([401, 'CERT_UNTRUSTED']);
  });

  it('an expired certificate is refused by nginx in both modes', async () => {
    for (const base of [strict, lenient]) {
      const res = await viaNginx(base, '/probe/whoami', certs.expired);
      expect([res.status, res.text]).toEqual([400, expect.stringContaining('SSL certificate error')]);
    }
  });

  it('a certificate revoked through the admin API is refused at once', async () => {
    const fingerprint = certs.carol.fingerprints.sha256Hex;
    const registered = await send(`${strict}/admin/users/carol/certificates`, {
      method: 'POST',
      client: certs.admin,
      ca: pki.ca.rootPem,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ certificate: certs.carol.certPem }),
    });
    expect(registered.status).toBe(201);
    expect(outcome(await viaNginx(strict, '/probe/whoami', certs.carol))).toBe('carol');
    const revoked = await send(`${strict}/admin/certificates/${fingerprint}`, {
      method: 'DELETE',
      client: certs.admin,
      ca: pki.ca.rootPem,
    });
    expect([revoked.status, revoked.body.revokedAt]).toEqual([200, expect.any(String)]);
    const after = await viaNginx(strict, '/probe/whoami', certs.carol);
    expect([after.status, after.body.code]).toEqual([401, 'CERT_REVOKED']);
  });

  it('a certificate revoked in the CRL (CLI `ca revoke`) is refused by the app once the CRL is re-read', async () => {
    expect(outcome(await viaNginx(strict, '/probe/whoami', certs.dave))).toBe('dave');
    const out: string[] = [];
    const code = await runCli(['ca', 'revoke', certs.dave.serialNumber, '--dir', pki.ca.layout.dir], {
      out: (l) => out.push(l),
      err: () => undefined,
    });
    expect([code, JSON.parse(out[0]).revoked]).toEqual([0, [certs.dave.serialNumber]]);
    await t.app.get(ClientCertificateAuthenticator).reloadCrl();
    const after = await viaNginx(strict, '/probe/whoami', certs.dave);
    expect([after.status, after.body.code]).toEqual([401, 'CERT_REVOKED']);
  });

  it('forged certificate headers sent through nginx lose to the real certificate', async () => {
    const forged = {
      ...Object.fromEntries([encodeForwardedCertificate('nginx', certs.admin.certificate)]),
      'X-SSL-Client-Verify': 'SUCCESS',
      'X-SSL-Client-S-DN': 'CN=admin',
      ...Object.fromEntries([encodeForwardedCertificate('rfc9440', certs.admin.certificate)]),
    };
    expect(outcome(await viaNginx(strict, '/probe/whoami', certs.bob, forged))).toBe('bob');
    // Without a certificate, nginx drops the forged values: nothing to map.
    expect(outcome(await viaNginx(lenient, '/probe/whoami', undefined, forged))).toBe('CERT_MISSING');
  });

  it('forged certificate headers sent straight to the app are refused (400) and logged', async () => {
    const escaped = encodeForwardedCertificate('nginx', certs.admin.certificate);
    const attempts: Record<string, string>[] = [
      { [escaped[0]]: escaped[1], 'X-SSL-Client-Verify': 'SUCCESS' },
      Object.fromEntries([encodeForwardedCertificate('rfc9440', certs.admin.certificate)]),
      { SSL_CLIENT_S_DN: 'CN=admin', SSL_CLIENT_VERIFY: 'SUCCESS' },
      { 'X-SSL-Client-S-DN': 'CN=admin', 'X-SSL-Client-Verify': 'SUCCESS' },
    ];
    for (const headers of attempts) {
      const res = await send(`${t.server}/probe/whoami`, { headers, localAddress: '127.0.0.1' });
      expect([res.status, res.body.code]).toEqual([400, 'CERT_HEADER_UNTRUSTED']);
    }
    const logged = t.logs.failures().filter((f) => f.code === 'CERT_HEADER_UNTRUSTED');
    expect(logged.length).toBeGreaterThanOrEqual(attempts.length);
    expect(logged[0].reason).toMatch(/from 127\.0\.0\.1, which is not in trustedProxies/);
  });

  it('a JWT client can share the lenient proxy without a certificate', async () => {
    const key = testKey('ed25519', 3);
    const alice = (await t.registry.directory.findByUsername('alice'))!;
    const view = await t.registry.register(alice, key.publicPem);
    const res = await viaNginx(lenient, '/probe/whoami', undefined, {
      authorization: await jwtHeader(key.privateKey, 'alice', view.keyId),
    });
    expect([res.status, res.body.method]).toEqual([200, 'jwt']);
  });

  it.each(Object.keys(HOSTILE_SUBJECTS))(
    'hostile subject %s maps to its real identity or is refused, never to admin',
    async (name) => {
      const res = await viaNginx(strict, '/probe/whoami', certs[name]);
      expect(res.body.username).not.toBe('admin');
      expect(outcome(res)).toBe(HOSTILE_CN_OUTCOME[name]);
    },
  );

  it('parses what nginx really sends (captured), and can save it as fixtures', async () => {
    captured = [];
    const cases: { name: string; base: string; cert?: IssuedCertificate; verify: string }[] = [
      { name: 'nginx-valid', base: strict, cert: certs.alice, verify: 'success' },
      { name: 'nginx-no-certificate', base: lenient, verify: 'none' },
      { name: 'nginx-untrusted-ca', base: lenient, cert: certs.other, verify: 'failed' },
      { name: 'nginx-hostile-subject', base: strict, cert: certs['o-with-cn-after'], verify: 'success' },
      { name: 'nginx-cn-with-slash', base: strict, cert: certs['cn-with-slash'], verify: 'success' },
    ];
    for (const c of cases) {
      expect((await viaNginx(c.base, '/capture/', c.cert)).status).toBe(200);
    }
    expect(captured).toHaveLength(cases.length);
    const parser = t.app.get(ClientCertificateAuthenticator).options.parser!;
    cases.forEach((c, i) => {
      const rawHeaders = captured[i];
      expect(parseClientVerifyStatus(rawHeaders, 'x-ssl-client-verify').outcome).toBe(c.verify);
      const dnIndex = rawHeaders.findIndex((v, j) => j % 2 === 0 && v.toLowerCase() === 'x-ssl-client-s-dn');
      if (!c.cert) {
        expect(() => parser.parse(rawHeaders)).toThrow(expect.objectContaining({ code: 'CERT_MISSING' }));
        expect(dnIndex).toBe(-1);
        return;
      }
      const { leaf } = parser.parse(rawHeaders);
      expect(leaf.raw.equals(c.cert.certificate.raw)).toBe(true);
      // nginx's $ssl_client_s_dn is RFC 2253: it parses, and names the same single CN as the certificate.
      const dn = parseDistinguishedName(rawHeaders[dnIndex + 1]);
      expect(requireSingleCn(dn)).toBe(requireSingleCn(readCertificateSubject(leaf)));
      // No header a client could have sent survives, and every certificate header occurs once.
      expect(rawHeaders.filter((v, j) => j % 2 === 0 && /^x-ssl-client-escaped-cert$/i.test(v))).toHaveLength(
        1,
      );
    });
    if (process.env.KPA_WRITE_CAPTURES === '1' && adapter === ADAPTERS[0]) writeCaptures(cases, captured);
  });

  function writeCaptures(
    cases: { name: string; base: string; cert?: IssuedCertificate; verify: string }[],
    raw: string[][],
  ) {
    const at = new Date().toISOString();
    cases.forEach((c, i) => {
      const dnIndex = raw[i].findIndex((v, j) => j % 2 === 0 && v.toLowerCase() === 'x-ssl-client-s-dn');
      const fixture = {
        description: `nginx 1.22 (Debian nginx-light), ssl_verify_client ${c.base === strict ? 'on' : 'optional_no_ca'}: ${c.name.replace(/^nginx-/, '').replace(/-/g, ' ')}`,
        source: `captured by test/certificates/nginx.e2e-spec.ts (KPA_WRITE_CAPTURES=1) from a real nginx with examples/nginx/client-certificate-headers.conf, ${at}`,
        format: 'nginx',
        rawHeaders: raw[i],
        expect: c.cert
          ? {
              sha256: c.cert.fingerprints.sha256Hex,
              cn: requireSingleCn(readCertificateSubject(c.cert.certificate)),
            }
          : { error: 'CERT_MISSING' },
        verifyStatus: { header: 'X-SSL-Client-Verify', outcome: c.verify },
        ...(dnIndex >= 0 ? { subjectDn: { header: raw[i][dnIndex], value: raw[i][dnIndex + 1] } } : {}),
        ...(c.cert && c.verify === 'success' ? { verify: { trustAnchorsPem: pki.ca.caBundlePem, at } } : {}),
      };
      writeFileSync(join(CAPTURES, `${c.name}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
    });
  }
});
