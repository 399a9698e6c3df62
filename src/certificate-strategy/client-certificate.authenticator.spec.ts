import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeForwardedCertificate } from '../certificates';
import { initCa, issueClientCert, IssuedCertificate, revoke } from '../certificates/ca';
import type { AuthUser } from '../context/security-context';
import type { KeyRegistry } from '../keys/key-registry';
import type { CertificateRegistry, RegisteredCertificate } from './certificate-registry';
import { ClientCertificateOptions, validateClientCertificateOptions } from './client-certificate-options';
import {
  ClientCertificateAuthenticator,
  ClientCertificateRequest,
  TlsPeer,
} from './client-certificate.authenticator';

/** The policy without Nest: fake registries, real certificates from the local CA. */
describe('ClientCertificateAuthenticator', () => {
  let dir: string;
  let alice: IssuedCertificate;
  let other: IssuedCertificate;
  let caBundle: string;
  let crlPath: string;
  const users = new Map<string, AuthUser>();
  const registrations = new Map<string, RegisteredCertificate>();
  const keys = {
    findUserById: async (id: string) => [...users.values()].find((u) => u.id === id) ?? null,
    findUserByUsername: async (name: string) => users.get(name) ?? null,
  } as unknown as KeyRegistry;
  const certificates = {
    findByFingerprint: async (fingerprint: string) => registrations.get(fingerprint) ?? null,
  } as unknown as CertificateRegistry;

  const user = (username: string, roles: string[], active = true): AuthUser => {
    const u = { id: `id-${username}`, username, roles, active };
    users.set(username, u);
    return u;
  };

  async function authenticator(options: ClientCertificateOptions): Promise<ClientCertificateAuthenticator> {
    return ClientCertificateAuthenticator.create(
      keys,
      certificates,
      validateClientCertificateOptions(options)!,
      {
        clockSkewMs: 20_000,
      },
    );
  }

  const fromProxy = (rawHeaders: string[]): ClientCertificateRequest => ({
    rawHeaders,
    remoteAddress: '10.0.0.5',
    tls: null,
  });
  const nginxHeaders = (cert: IssuedCertificate, verify = 'SUCCESS'): string[] => [
    'Host',
    'api',
    ...encodeForwardedCertificate('nginx', cert.certificate),
    'X-SSL-Client-Verify',
    verify,
  ];
  const code = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: { code?: string }) => error.code,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpa-cc-auth-'));
    const ca = await initCa(join(dir, 'ca'));
    await initCa(join(dir, 'other'));
    caBundle = ca.caBundlePem;
    crlPath = ca.layout.crl;
    alice = await issueClientCert(join(dir, 'ca'), 'alice', { pkcs12: false });
    other = await issueClientCert(join(dir, 'other'), 'alice', { pkcs12: false });
    user('alice', ['reader', 'writer']);
    user('mallory', ['reader']);
    user('admin', ['admin']);
    registrations.set(alice.fingerprints.sha256Hex, {
      fingerprint: alice.fingerprints.sha256Hex,
      userId: 'id-alice',
      roles: ['reader'],
      revokedAt: null,
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  describe('behind a proxy (nginx format)', () => {
    const base: ClientCertificateOptions = { format: 'nginx', trustedProxies: ['10.0.0.5'] };

    it('maps a registered certificate: keyId = fingerprint, roles = user roles ∩ registration', async () => {
      const a = await authenticator(base);
      const context = await a.authenticate(fromProxy(nginxHeaders(alice)));
      expect(context.toJSON()).toEqual({
        username: 'alice',
        keyId: alice.fingerprints.sha256Hex,
        method: 'client-certificate',
        roles: ['reader'],
      });
    });

    it('refuses the same headers from a peer that is not a trusted proxy, whatever the format', async () => {
      const a = await authenticator(base);
      for (const headers of [
        nginxHeaders(alice),
        encodeForwardedCertificate('rfc9440', alice.certificate),
        ['SSL_CLIENT_S_DN', 'CN=admin', 'SSL_CLIENT_VERIFY', 'SUCCESS'],
        ['X-SSL-Client-Verify', 'SUCCESS'],
      ]) {
        const request = { rawHeaders: headers, remoteAddress: '10.0.0.6', tls: null };
        expect(a.claims(request)).toBe(true);
        await expect(a.authenticate(request)).rejects.toMatchObject({
          code: 'CERT_HEADER_UNTRUSTED',
          reason: expect.stringContaining('10.0.0.6'),
        });
      }
    });

    it('claims only requests with certificate headers, and leaves "no certificate" plus a JWT to the JWT strategy', async () => {
      const a = await authenticator(base);
      expect(a.claims(fromProxy(['Host', 'api']))).toBe(false);
      expect(a.claims(fromProxy(['X-SSL-Client-Verify', 'NONE']))).toBe(true);
      expect(a.claims(fromProxy(['X-SSL-Client-Verify', 'NONE', 'Authorization', 'JWT x']))).toBe(false);
      expect(a.claims(fromProxy([...nginxHeaders(alice), 'Authorization', 'JWT x']))).toBe(true);
      expect(a.claims(fromProxy(['X-SSL-Client-Verify', 'FAILED:x', 'Authorization', 'JWT x']))).toBe(true);
      // Another format's header through the trusted proxy is not this configuration's business.
      expect(a.claims(fromProxy(encodeForwardedCertificate('rfc9440', alice.certificate)))).toBe(false);
    });

    it.each([
      [['X-SSL-Client-Verify', 'NONE'], 'CERT_MISSING'],
      [['X-SSL-Client-Verify', ''], 'CERT_MISSING'],
      [['X-SSL-Client-Verify', '(null)'], 'CERT_MISSING'],
      [['X-SSL-Client-Verify', 'FAILED:certificate has expired'], 'CERT_VERIFY_FAILED'],
      [['X-SSL-Client-Verify', 'GENEROUS'], 'CERT_VERIFY_FAILED'],
      [['X-SSL-Client-Verify', 'success'], 'CERT_HEADER_MALFORMED'],
      [['X-SSL-Client-Verify', 'SUCCESS', 'X-SSL-Client-Verify', 'SUCCESS'], 'CERT_HEADER_DUPLICATED'],
      [['X-SSL-Client-Verify', 'SUCCESS'], 'CERT_MISSING'],
      [
        ['X-SSL-Client-Verify', 'SUCCESS', 'X-SSL-Client-Escaped-Cert', '-----BEGIN%20junk'],
        'CERT_HEADER_MALFORMED',
      ],
    ])('%j → %s', async (headers, expected) => {
      const a = await authenticator(base);
      expect(await code(a.authenticate(fromProxy(headers)))).toBe(expected);
    });

    it('refuses a duplicated certificate header, and a certificate without the proxy verdict', async () => {
      const a = await authenticator(base);
      const [name, value] = encodeForwardedCertificate('nginx', alice.certificate);
      expect(await code(a.authenticate(fromProxy([...nginxHeaders(alice), name, value])))).toBe(
        'CERT_HEADER_DUPLICATED',
      );
      expect(await code(a.authenticate(fromProxy([name, value])))).toBe('CERT_VERIFY_FAILED');
    });

    it('re-verifies against caBundle: another CA is CERT_UNTRUSTED even when the proxy said FAILED', async () => {
      const a = await authenticator({ ...base, caBundle });
      expect(await code(a.authenticate(fromProxy(nginxHeaders(other, 'FAILED:unable to get issuer'))))).toBe(
        'CERT_UNTRUSTED',
      );
      expect(await code(a.authenticate(fromProxy(nginxHeaders(other))))).toBe('CERT_UNTRUSTED');
      // Our own verification passing does not overrule a proxy that refused.
      expect(await code(a.authenticate(fromProxy(nginxHeaders(alice, 'FAILED:revoked'))))).toBe(
        'CERT_VERIFY_FAILED',
      );
    });

    it('refuses a certificate revoked in the CRL after reloadCrl(), and a revoked registration', async () => {
      const a = await authenticator({ ...base, caBundle, crlFile: crlPath });
      const dave = await issueClientCert(join(dir, 'ca'), 'dave', { pkcs12: false });
      user('dave', ['reader']);
      const mapped = await authenticator({
        ...base,
        caBundle,
        crlFile: crlPath,
        mapping: { by: 'subject-cn' },
      });
      expect((await mapped.authenticate(fromProxy(nginxHeaders(dave)))).username).toBe('dave');
      await revoke(join(dir, 'ca'), dave.serialNumber);
      await mapped.reloadCrl();
      expect(await code(mapped.authenticate(fromProxy(nginxHeaders(dave))))).toBe('CERT_REVOKED');

      registrations.set(dave.fingerprints.sha256Hex, {
        fingerprint: dave.fingerprints.sha256Hex,
        userId: 'id-dave',
        roles: null,
        revokedAt: Date.now() - 1000,
      });
      expect(await code(a.authenticate(fromProxy(nginxHeaders(dave))))).toBe('CERT_REVOKED');
    });

    it('re-reads a changed CRL file in the background, without making a request wait', async () => {
      const frank = await issueClientCert(join(dir, 'ca'), 'frank', { pkcs12: false });
      user('frank', ['reader']);
      const logs: string[] = [];
      const a = await ClientCertificateAuthenticator.create(
        keys,
        certificates,
        validateClientCertificateOptions({
          ...base,
          caBundle,
          crlFile: crlPath,
          crlRefreshSeconds: 0,
          mapping: { by: 'subject-cn' },
        })!,
        { clockSkewMs: 20_000, log: (level, message) => logs.push(`${level} ${message}`) },
      );
      expect((await a.authenticate(fromProxy(nginxHeaders(frank)))).username).toBe('frank');
      await revoke(join(dir, 'ca'), frank.serialNumber);
      let result: string | undefined;
      for (let i = 0; i < 50 && result !== 'CERT_REVOKED'; i++) {
        result = await code(a.authenticate(fromProxy(nginxHeaders(frank))));
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(result).toBe('CERT_REVOKED');
      expect(logs).toEqual([expect.stringMatching(/^log reloaded CRL .* revoked\)$/)]);
    });

    it('fingerprint mapping never looks at names: an unregistered CN=admin is CERT_UNKNOWN', async () => {
      const admin = await issueClientCert(join(dir, 'ca'), 'admin', { pkcs12: false });
      const a = await authenticator(base);
      expect(await code(a.authenticate(fromProxy(nginxHeaders(admin))))).toBe('CERT_UNKNOWN');
    });

    it('refuses an inactive account', async () => {
      const erin = await issueClientCert(join(dir, 'ca'), 'erin', { pkcs12: false });
      user('erin', ['reader'], false);
      const a = await authenticator({ ...base, mapping: { by: 'subject-cn' } });
      expect(await code(a.authenticate(fromProxy(nginxHeaders(erin))))).toBe('USER_INACTIVE');
    });

    it('maps by SAN with prefix/suffix, needs exactly one such SAN, and refuses a registration to another account', async () => {
      const ca = join(dir, 'ca');
      const one = await issueClientCert(ca, 'san-one', {
        pkcs12: false,
        subject: [[{ type: 'CN', value: 'Mallory Display Name' }]],
        subjectAltNames: { uri: ['spiffe://corp.example/user/mallory'] },
      });
      const two = await issueClientCert(ca, 'san-two', {
        pkcs12: false,
        subjectAltNames: { uri: ['spiffe://corp.example/user/mallory', 'spiffe://corp.example/user/admin'] },
      });
      const elsewhere = await issueClientCert(ca, 'san-elsewhere', {
        pkcs12: false,
        subjectAltNames: { uri: ['spiffe://evil.example/user/admin'] },
      });
      const a = await authenticator({
        ...base,
        mapping: { by: 'san-uri', prefix: 'spiffe://corp.example/user/' },
      });
      expect((await a.authenticate(fromProxy(nginxHeaders(one)))).username).toBe('mallory');
      expect(await code(a.authenticate(fromProxy(nginxHeaders(two))))).toBe('CERT_SUBJECT_INVALID');
      expect(await code(a.authenticate(fromProxy(nginxHeaders(elsewhere))))).toBe('CERT_UNKNOWN');

      registrations.set(one.fingerprints.sha256Hex, {
        fingerprint: one.fingerprints.sha256Hex,
        userId: 'id-admin',
        roles: null,
        revokedAt: null,
      });
      expect(await code(a.authenticate(fromProxy(nginxHeaders(one))))).toBe('CERT_SUBJECT_INVALID');
    });
  });

  describe('legacy subject DN (weaker, opt-in)', () => {
    const legacy: ClientCertificateOptions = {
      format: 'legacy-subject-dn',
      trustForwardedCertificatesWithoutVerification: true,
      trustedProxies: ['10.0.0.5'],
      mapping: { by: 'subject-cn' },
    };
    const dnHeaders = (dn: string, verify = 'SUCCESS') => [
      'SSL_CLIENT_S_DN',
      dn,
      'SSL_CLIENT_VERIFY',
      verify,
    ];

    it.each([
      ['CN=mallory,O=Evil\\, CN=admin', 'mallory'],
      ['O=Evil\\, CN=admin,CN=mallory', 'mallory'],
      ['CN=mallory/CN=admin', 'CERT_SUBJECT_INVALID'],
      ['/O=Evil/CN=admin', 'CERT_SUBJECT_INVALID'],
      ['CN=admin,CN=mallory', 'CERT_SUBJECT_INVALID'],
      ['CN=admin+CN=mallory', 'CERT_SUBJECT_INVALID'],
      ['CN=\\C3\\A4dmin', 'CERT_SUBJECT_INVALID'],
      ['CN=admin\\,', 'CERT_SUBJECT_INVALID'],
      ['CN=admin\\00', 'CERT_SUBJECT_INVALID'],
      ['CN=ADMIN', 'CERT_SUBJECT_INVALID'],
      ['', 'CERT_MISSING'],
      ['(null)', 'CERT_MISSING'],
      ['O=NoCommonName', 'CERT_UNKNOWN'],
    ])('%j → %s', async (dn, expected) => {
      const a = await authenticator(legacy);
      const outcome = await a.authenticate(fromProxy(dnHeaders(dn))).then(
        (context) => context.username,
        (error: { code?: string }) => error.code,
      );
      expect(outcome).toBe(expected);
    });

    it('needs the proxy verdict SUCCESS', async () => {
      const a = await authenticator(legacy);
      expect(await code(a.authenticate(fromProxy(dnHeaders('CN=mallory', 'FAILED:x'))))).toBe(
        'CERT_VERIFY_FAILED',
      );
      expect(await code(a.authenticate(fromProxy(dnHeaders('CN=mallory', 'NONE'))))).toBe('CERT_MISSING');
      // A DN forwarded without the verdict was not verified by anyone.
      expect(await code(a.authenticate(fromProxy(['SSL_CLIENT_S_DN', 'CN=mallory'])))).toBe(
        'CERT_VERIFY_FAILED',
      );
    });
  });

  describe('native TLS (source tls)', () => {
    const peer = (
      leaf: X509Certificate | null,
      authorized: boolean,
      error: string | null = null,
      serverVerifies = true,
    ): TlsPeer => ({
      authorized,
      serverVerifies,
      authorizationError: error,
      leaf,
      chain: () => [],
    });
    const overTls = (tls: TlsPeer | null, rawHeaders: string[] = []): ClientCertificateRequest => ({
      rawHeaders,
      remoteAddress: '192.0.2.1',
      tls,
    });

    it('trusts Node’s verdict, mapping its TLS error to a code', async () => {
      const a = await authenticator({ source: 'tls' });
      expect((await a.authenticate(overTls(peer(alice.certificate, true)))).username).toBe('alice');
      expect(await code(a.authenticate(overTls(peer(null, false))))).toBe('CERT_MISSING');
      expect(await code(a.authenticate(overTls(null)))).toBe('CERT_MISSING');
      expect(
        await code(
          a.authenticate(overTls(peer(other.certificate, false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'))),
        ),
      ).toBe('CERT_UNTRUSTED');
      expect(await code(a.authenticate(overTls(peer(alice.certificate, false, 'CERT_HAS_EXPIRED'))))).toBe(
        'CERT_EXPIRED',
      );
      expect(await code(a.authenticate(overTls(peer(alice.certificate, false, 'SOMETHING_NEW'))))).toBe(
        'CERT_VERIFY_FAILED',
      );
    });

    it('with caBundle and a server that verifies (a ca), both Node and caBundle must accept', async () => {
      const a = await authenticator({ source: 'tls', caBundle });
      expect(await a.authenticate(overTls(peer(alice.certificate, true)))).toMatchObject({
        username: 'alice',
      });
      expect(
        await code(a.authenticate(overTls(peer(alice.certificate, false, 'PERMITTED_SUBTREE_VIOLATION')))),
      ).toBe('CERT_VERIFY_FAILED');
      expect(await code(a.authenticate(overTls(peer(alice.certificate, false, 'CERT_HAS_EXPIRED'))))).toBe(
        'CERT_EXPIRED',
      );
      expect(await code(a.authenticate(overTls(peer(other.certificate, true))))).toBe('CERT_UNTRUSTED');
    });

    it('with caBundle and a server without a ca, caBundle alone decides', async () => {
      const a = await authenticator({ source: 'tls', caBundle });
      expect(
        await a.authenticate(
          overTls(peer(alice.certificate, false, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', false)),
        ),
      ).toMatchObject({ username: 'alice' });
      expect(await code(a.authenticate(overTls(peer(other.certificate, true, null, false))))).toBe(
        'CERT_UNTRUSTED',
      );
    });

    it('refuses certificate headers on a direct TLS connection, and leaves certificate-less JWT requests alone', async () => {
      const a = await authenticator({ source: 'tls' });
      const forged = overTls(peer(null, false), nginxHeaders(alice));
      expect(a.claims(forged)).toBe(true);
      expect(await code(a.authenticate(forged))).toBe('CERT_HEADER_UNTRUSTED');
      expect(a.claims(overTls(peer(null, false), ['Authorization', 'JWT x']))).toBe(false);
      expect(a.claims(overTls(peer(null, false)))).toBe(true);
      expect(a.claims(overTls(null))).toBe(false);
    });
  });
});
