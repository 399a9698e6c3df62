import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import {
  CertificateRegistry,
  encodeForwardedCertificate,
  IssuedCertificate,
  KeypairAuthModuleOptions,
} from '../../src';
import {
  createTestPki,
  HOSTILE_CN_OUTCOME,
  HOSTILE_SUBJECTS,
  send,
  SendResult,
  TestPki,
} from '../support/certificates';
import { DATABASES } from '../support/test-database';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';

/**
 * The strategy over real HTTP without a proxy: this process plays the trusted
 * proxy from 127.0.0.1 (and an attacker from 127.0.0.3), so every header value
 * can be chosen. Fastify runs on PostgreSQL when it is reachable, which also
 * runs the certificate migration there.
 */
const TRUSTED = '127.0.0.1';
const UNTRUSTED = '127.0.0.3';
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS_E2E ?? 200);

const outcome = (res: SendResult) => (res.status === 200 ? res.body.username : res.body.code);
const nginxHeaders = (cert: IssuedCertificate, verify = 'SUCCESS'): string[] => [
  ...encodeForwardedCertificate('nginx', cert.certificate),
  'X-SSL-Client-Verify',
  verify,
];

let pki: TestPki;
const certs: Record<string, IssuedCertificate> = {};

beforeAll(async () => {
  pki = await createTestPki();
  for (const name of ['admin', 'alice', 'mallory', 'ivan', 'unregistered'])
    certs[name] = await pki.issue(name);
  certs.adminByName = await pki.issue('admin-by-name', { subject: [[{ type: 'CN', value: 'admin' }]] });
  certs.expired = await pki.issueExpired('expired');
  certs.other = await pki.issueFromOtherCa('alice');
  certs.noClientAuth = await pki.issue('no-eku', { extendedKeyUsages: [] });
  for (const [name, subject] of Object.entries(HOSTILE_SUBJECTS)) {
    certs[name] = await pki.issue(`hostile-${name}`, { subject });
  }
  certs.sanErin = await pki.issue('san-erin', {
    subject: [[{ type: 'CN', value: 'Erin Example' }]],
    subjectAltNames: { email: ['erin@corp.example'] },
  });
  certs.sanTwo = await pki.issue('san-two', {
    subjectAltNames: { email: ['erin@corp.example', 'admin@corp.example'] },
  });
  certs.sanElsewhere = await pki.issue('san-elsewhere', {
    subject: [[{ type: 'CN', value: 'mallory' }]],
    subjectAltNames: { email: ['admin@evil.example'] },
  });
}, 30_000);
afterAll(() => pki?.cleanup());

const cases = ADAPTERS.map((adapter) => ({
  adapter,
  database:
    adapter === 'fastify' && DATABASES.includes('postgres') ? ('postgres' as const) : ('sqlite' as const),
}));

describe.each(cases)('client certificates by fingerprint ($adapter, $database)', ({ adapter, database }) => {
  let t: TestApp;
  const get = (headers: string[] | Record<string, string>, localAddress = TRUSTED) =>
    send(`${t.server}/probe/whoami`, { headers, localAddress });
  const admin = (method: string, path: string, body?: unknown) =>
    send(`${t.server}${path}`, {
      method,
      localAddress: TRUSTED,
      headers: [
        ...nginxHeaders(certs.admin),
        ...(body === undefined ? [] : ['content-type', 'application/json']),
      ],
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    const options: KeypairAuthModuleOptions = {
      clientCertificate: {
        format: 'nginx',
        trustedProxies: [TRUSTED],
        caBundle: pki.caBundlePath,
      },
    };
    t = await createTestApp({ adapter, database, options });
    const adminUser = await t.addUser('admin', ['admin', 'reader']);
    await t.addUser('alice', ['reader', 'writer']);
    await t.addUser('mallory', ['reader']);
    await t.addUser('ivan', ['reader']);
    await t.app.get(CertificateRegistry).register(adminUser, certs.admin.certPem);
  });
  afterAll(() => t?.close());

  it('registers through the admin API with a role subset; the context carries user roles ∩ subset', async () => {
    const res = await admin('POST', '/admin/users/alice/certificates', {
      certificate: certs.alice.certPem,
      roles: ['reader'],
      label: 'ci',
    });
    expect([res.status, res.body.fingerprint, res.body.roles]).toEqual([
      201,
      certs.alice.fingerprints.sha256Hex,
      ['reader'],
    ]);
    const who = await get(nginxHeaders(certs.alice));
    expect([who.status, who.body]).toEqual([
      200,
      {
        username: 'alice',
        keyId: certs.alice.fingerprints.sha256Hex,
        method: 'client-certificate',
        roles: ['reader'],
      },
    ]);
    const adminOnly = await send(`${t.server}/probe/admin`, { headers: nginxHeaders(certs.alice) });
    expect([adminOnly.status, adminOnly.body.code]).toEqual([403, 'ROLE_REQUIRED']);
  });

  it('refuses bad registrations with codes', async () => {
    const expectations: [unknown, number, string][] = [
      [{ certificate: certs.alice.certPem }, 400, 'CERTIFICATE_DUPLICATE'],
      [{ certificate: certs.mallory.certPem + certs.mallory.keyPem }, 400, 'KEY_IS_PRIVATE'],
      [{ certificate: pki.ca.rootPem }, 400, 'CERTIFICATE_INVALID'],
      [{ certificate: certs.mallory.certPem + certs.mallory.chainPem }, 400, 'CERTIFICATE_INVALID'],
      [{ certificate: 'hello' }, 400, 'CERTIFICATE_INVALID'],
      [{ certificate: certs.expired.certPem }, 400, 'CERTIFICATE_EXPIRED'],
      [{ certificate: certs.mallory.certPem, roles: ['admin'] }, 400, 'ROLES_NOT_HELD'],
      [{ certificate: certs.mallory.certPem, extra: 1 }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of expectations) {
      const res = await admin('POST', '/admin/users/mallory/certificates', body);
      expect([res.status, res.body.code]).toEqual([status, code]);
    }
    const unknownUser = await admin('POST', '/admin/users/nobody/certificates', {
      certificate: certs.mallory.certPem,
    });
    expect([unknownUser.status, unknownUser.body.code]).toEqual([404, 'USER_NOT_FOUND']);
    const unknownCert = await admin('DELETE', `/admin/certificates/${'ab'.repeat(32)}`);
    expect([unknownCert.status, unknownCert.body.code]).toEqual([404, 'CERTIFICATE_NOT_FOUND']);
  });

  it('maps hostile subjects registered to mallory to mallory, and never maps by name', async () => {
    const registry = t.app.get(CertificateRegistry);
    const mallory = (await t.registry.directory.findByUsername('mallory'))!;
    for (const name of Object.keys(HOSTILE_SUBJECTS)) {
      await registry.register(mallory, certs[name].certPem);
      const res = await get(nginxHeaders(certs[name]));
      expect([name, outcome(res), res.body.keyId]).toEqual([
        name,
        'mallory',
        certs[name].fingerprints.sha256Hex,
      ]);
    }
    // A certificate that says CN=admin, valid and from our CA, but not registered: nobody.
    expect(outcome(await get(nginxHeaders(certs.adminByName)))).toBe('CERT_UNKNOWN');
  });

  it.each<[string, number, string, () => string[]]>([
    ['no certificate (NONE)', 401, 'CERT_MISSING', () => ['X-SSL-Client-Verify', 'NONE']],
    ['empty verdict', 401, 'CERT_MISSING', () => ['X-SSL-Client-Verify', '']],
    ['(null) verdict', 401, 'CERT_MISSING', () => ['X-SSL-Client-Verify', '(null)']],
    ['FAILED:reason', 401, 'CERT_VERIFY_FAILED', () => nginxHeaders(certs.alice, 'FAILED:revoked')],
    ['FAILED without a certificate', 401, 'CERT_VERIFY_FAILED', () => ['X-SSL-Client-Verify', 'FAILED:x']],
    [
      'a certificate without a verdict',
      401,
      'CERT_VERIFY_FAILED',
      () => nginxHeaders(certs.alice).slice(0, 2),
    ],
    [
      'duplicated certificate header',
      400,
      'CERT_HEADER_DUPLICATED',
      () => [...nginxHeaders(certs.alice), ...nginxHeaders(certs.alice).slice(0, 2)],
    ],
    [
      'duplicated verdict',
      400,
      'CERT_HEADER_DUPLICATED',
      () => [...nginxHeaders(certs.alice), 'X-SSL-Client-Verify', 'SUCCESS'],
    ],
    [
      'junk certificate',
      400,
      'CERT_HEADER_MALFORMED',
      () => [
        'X-SSL-Client-Escaped-Cert',
        '-----BEGIN%20CERTIFICATE-----%0Ajunk',
        'X-SSL-Client-Verify',
        'SUCCESS',
      ],
    ],
    ['expired', 401, 'CERT_EXPIRED', () => nginxHeaders(certs.expired)],
    ['another CA', 401, 'CERT_UNTRUSTED', () => nginxHeaders(certs.other)],
    ['no clientAuth EKU', 401, 'CERT_EKU_MISSING', () => nginxHeaders(certs.noClientAuth)],
    ['not registered', 401, 'CERT_UNKNOWN', () => nginxHeaders(certs.unregistered)],
  ])('%s → %i %s', async (_name, status, code, headers) => {
    const res = await get(headers());
    expect([res.status, res.body.code]).toEqual([status, code]);
    if (status === 401) expect(res.headers['www-authenticate']).toContain('ClientCertificate');
  });

  it('refuses certificate headers from a peer that is not a trusted proxy (400), and logs it', async () => {
    const attempts = [
      nginxHeaders(certs.admin),
      encodeForwardedCertificate('rfc9440', certs.admin.certificate),
      encodeForwardedCertificate('envoy-xfcc', certs.admin.certificate),
      ['SSL_CLIENT_S_DN', 'CN=admin', 'SSL_CLIENT_VERIFY', 'SUCCESS'],
    ];
    for (const headers of attempts) {
      const res = await get(headers, UNTRUSTED);
      expect([res.status, res.body.code]).toEqual([400, 'CERT_HEADER_UNTRUSTED']);
    }
    const logged = t.logs.failures().filter((f) => f.code === 'CERT_HEADER_UNTRUSTED');
    expect(logged).toHaveLength(attempts.length);
    expect(logged.map((f) => f.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/client-cert from 127\.0\.0\.3, which is not in trustedProxies/),
      ]),
    );
  });

  it('serves known certificates from the cache: no SQL query per request; revocation applies at once', async () => {
    const mallory = (await t.registry.directory.findByUsername('mallory'))!;
    const view = await t.app.get(CertificateRegistry).register(mallory, certs.ivan.certPem);
    expect(outcome(await get(nginxHeaders(certs.ivan)))).toBe('mallory');
    const before = t.queries.count;
    for (let i = 0; i < 5; i++) expect(outcome(await get(nginxHeaders(certs.ivan)))).toBe('mallory');
    // Unknown certificates are remembered too (negative cache).
    await get(nginxHeaders(certs.unregistered));
    expect(t.queries.count).toBe(before);

    const revoked = await admin('DELETE', `/admin/certificates/${view.fingerprint.toUpperCase()}`);
    expect(revoked.status).toBe(200);
    expect(outcome(await get(nginxHeaders(certs.ivan)))).toBe('CERT_REVOKED');
    const listed = await admin('GET', '/admin/users/mallory/certificates');
    expect(JSON.parse(listed.text)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ fingerprint: view.fingerprint, revokedAt: expect.any(String) }),
      ]),
    );
  });

  it('refuses a deactivated account', async () => {
    await admin('PATCH', '/admin/users/alice', { active: false });
    expect(outcome(await get(nginxHeaders(certs.alice)))).toBe('USER_INACTIVE');
    await admin('PATCH', '/admin/users/alice', { active: true });
    expect(outcome(await get(nginxHeaders(certs.alice)))).toBe('alice');
  });

  it('never answers 5xx, whatever a trusted proxy forwards (property)', async () => {
    const valid = encodeForwardedCertificate('nginx', certs.alice.certificate)[1];
    const headerChar = fc.constantFrom(
      ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)),
      '%',
      '%0A',
      '%20',
      '\t',
      '\u00e9',
    );
    const text = fc.string({ unit: headerChar, maxLength: 300 });
    const mutated = fc
      .tuple(fc.nat({ max: valid.length }), fc.nat({ max: 8 }), fc.string({ unit: headerChar, maxLength: 6 }))
      .map(([at, remove, insert]) => valid.slice(0, at) + insert + valid.slice(at + remove));
    const header = fc.tuple(
      fc.constantFrom(
        'X-SSL-Client-Escaped-Cert',
        'X-SSL-Client-Verify',
        'Client-Cert',
        'X-SSL-Client-S-DN',
        'Authorization',
      ),
      fc.oneof(text, mutated, fc.constantFrom('SUCCESS', 'NONE', 'FAILED:x', '(null)', '', valid)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(header, { minLength: 1, maxLength: 4 }), async (pairs) => {
        const res = await get(pairs.flat());
        expect(res.status).toBeLessThan(500);
        if (res.status === 200) expect(res.body.username).toBe('alice');
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(t.logs.entries.filter((e) => e.level === 'error')).toEqual([]);
  });
});

describe('client certificates by name, RFC 9440 with a chain (express)', () => {
  let t: TestApp;
  const get = (cert: IssuedCertificate, withChain = true) =>
    send(`${t.server}/probe/whoami`, {
      localAddress: TRUSTED,
      headers: encodeForwardedCertificate(
        'rfc9440',
        cert.certificate,
        withChain ? [new X509Certificate(cert.chainPem)] : [],
      ),
    });

  beforeAll(async () => {
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        clientCertificate: {
          format: 'rfc9440',
          trustedProxies: [TRUSTED],
          // Only the root is trusted: the intermediate must come from Client-Cert-Chain.
          caBundle: pki.ca.rootPem,
          mapping: [{ by: 'san-email', suffix: '@corp.example' }, { by: 'subject-cn' }],
        },
      },
    });
    for (const name of ['admin', 'mallory', 'erin'])
      await t.addUser(name, name === 'admin' ? ['admin'] : ['reader']);
  });
  afterAll(() => t?.close());

  it.each(Object.keys(HOSTILE_SUBJECTS))(
    'hostile subject %s maps to its real identity or is refused',
    async (name) => {
      const res = await get(certs[name]);
      expect(res.body.username).not.toBe('admin');
      expect(outcome(res)).toBe(HOSTILE_CN_OUTCOME[name]);
    },
  );

  it('maps one SAN email under the configured domain; two are refused; another domain falls through to the CN', async () => {
    expect(outcome(await get(certs.sanErin))).toBe('erin');
    expect(outcome(await get(certs.sanTwo))).toBe('CERT_SUBJECT_INVALID');
    expect(outcome(await get(certs.sanElsewhere))).toBe('mallory');
  });

  it('needs the chain to reach the trusted root', async () => {
    expect(outcome(await get(certs.sanErin, false))).toBe('CERT_UNTRUSTED');
  });
});

describe('the weaker legacy mode: a subject DN and the proxy verdict (fastify)', () => {
  let t: TestApp;
  const get = (dn: string, verify = 'SUCCESS', localAddress = TRUSTED) =>
    send(`${t.server}/probe/whoami`, {
      localAddress,
      headers: ['X-SSL-Client-S-DN', dn, 'X-SSL-Client-Verify', verify],
    });

  beforeAll(async () => {
    t = await createTestApp({
      adapter: 'fastify',
      database: 'sqlite',
      options: {
        clientCertificate: {
          format: 'legacy-subject-dn',
          trustForwardedCertificatesWithoutVerification: true,
          trustedProxies: [TRUSTED],
          subjectDnHeader: 'x-ssl-client-s-dn',
          verifyHeader: 'x-ssl-client-verify',
          mapping: { by: 'subject-cn' },
        },
      },
    });
    for (const name of ['admin', 'mallory']) await t.addUser(name, ['reader']);
  });
  afterAll(() => t?.close());

  it.each([
    ['CN=mallory,O=Evil\\, CN=admin', 'SUCCESS', 'mallory'],
    ['CN=mallory/CN=admin', 'SUCCESS', 'CERT_SUBJECT_INVALID'],
    ['/O=Evil/CN=admin', 'SUCCESS', 'CERT_SUBJECT_INVALID'],
    ['CN=admin,CN=mallory', 'SUCCESS', 'CERT_SUBJECT_INVALID'],
    ['CN=admin\\20', 'SUCCESS', 'CERT_SUBJECT_INVALID'],
    ['CN=mallory', 'FAILED:certificate has expired', 'CERT_VERIFY_FAILED'],
    ['CN=mallory', 'NONE', 'CERT_MISSING'],
  ])('%j with %j → %s', async (dn, verify, expected) => {
    expect(outcome(await get(dn, verify))).toBe(expected);
  });

  it('refuses the DN header from an untrusted peer', async () => {
    const res = await get('CN=admin', 'SUCCESS', UNTRUSTED);
    expect([res.status, res.body.code]).toEqual([400, 'CERT_HEADER_UNTRUSTED']);
  });
});
