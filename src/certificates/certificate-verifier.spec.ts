import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { CaCertificates, caLayout, initCa, issueClientCert, issueServerCert, revoke } from './ca';
import { CertificateErrorCode } from './certificate-error';
import { CertificateVerifier, CertificateVerifierOptions } from './certificate-verifier';
import { CrlRevocationList } from './crl-revocation-list';
import { craftUnusualClient, createTestPki, TestPki } from '../../test/support/certificates';
import { hostileChain } from '../../test/support/hostile-chain';

const HOUR = 3_600_000;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' };
const EC = { name: 'ECDSA', namedCurve: 'P-256' };

function expectVerifyError(
  verifier: CertificateVerifier,
  leaf: X509Certificate,
  chain: readonly X509Certificate[],
  code: CertificateErrorCode,
): void {
  expect(() => verifier.verify(leaf, chain)).toThrow(expect.objectContaining({ code }));
}

async function importKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
}

/** Signs a custom certificate with an existing key, for shapes the CA module refuses to produce. */
async function craft(
  issuer: X509Certificate,
  issuerKeyPem: string,
  subjectCn: string,
  extensions: x509.Extension[],
  options: { curve?: string; signingHash?: string } = {},
): Promise<{ cert: X509Certificate; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(
    { ...EC, namedCurve: options.curve ?? EC.namedCurve },
    true,
    ['sign', 'verify'],
  );
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '0a0b0c',
      subject: [{ CN: [subjectCn] }],
      issuer: new x509.X509Certificate(issuer.raw).subjectName,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + HOUR),
      publicKey: keys.publicKey,
      signingKey: await importKey(issuerKeyPem),
      signingAlgorithm: { ...SIGNING, hash: options.signingHash ?? SIGNING.hash },
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(
          new x509.X509Certificate(issuer.raw),
          false,
          webcrypto,
        ),
        ...extensions,
      ],
    },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return {
    cert: new X509Certificate(Buffer.from(cert.rawData)),
    keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`,
  };
}

describe('CertificateVerifier', () => {
  let dir: string;
  let otherDir: string;
  let ca: CaCertificates;
  let otherCa: CaCertificates;
  let root: X509Certificate;
  let intermediate: X509Certificate;
  let alice: X509Certificate;
  let now: Date;
  const verifier = (options: Partial<CertificateVerifierOptions> = {}) =>
    new CertificateVerifier({ trustAnchors: ca.rootPem, clock: () => now, ...options });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpa-verify-'));
    otherDir = await mkdtemp(join(tmpdir(), 'kpa-verify-other-'));
    ca = await initCa(dir);
    // Same default names as the first CA: only keys and signatures tell them apart.
    otherCa = await initCa(otherDir);
    root = new X509Certificate(ca.rootPem);
    intermediate = new X509Certificate(ca.intermediatePem);
    alice = (await issueClientCert(dir, 'alice', { pkcs12: false })).certificate;
  });
  beforeEach(() => {
    now = new Date();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(otherDir, { recursive: true, force: true });
  });

  it('accepts a good chain and returns the path and fingerprints', () => {
    const result = verifier().verify(alice, [intermediate]);
    expect(result.path.map((cert) => cert.subject)).toEqual([
      alice.subject,
      intermediate.subject,
      root.subject,
    ]);
    expect(result.fingerprints.sha256Hex).toBe(alice.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(result.fingerprints.x5tS256).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('builds the path from server-side intermediates when the proxy forwards only the leaf', () => {
    expectVerifyError(verifier(), alice, [], 'CERT_UNTRUSTED');
    expect(verifier({ intermediates: ca.intermediatePem }).verify(alice).path).toHaveLength(3);
    // The intermediate as anchor is also a valid configuration.
    expect(verifier({ trustAnchors: ca.intermediatePem }).verify(alice).path).toHaveLength(2);
  });

  it('ignores irrelevant certificates in the forwarded chain', () => {
    const stranger = new X509Certificate(otherCa.intermediatePem);
    expect(verifier().verify(alice, [stranger, intermediate]).path).toHaveLength(3);
  });

  it('refuses a certificate from another CA with identical names', async () => {
    const mallory = (await issueClientCert(otherDir, 'alice', { pkcs12: false })).certificate;
    expect(mallory.subject).toBe(alice.subject);
    expect(mallory.issuer).toBe(alice.issuer);
    expectVerifyError(verifier(), mallory, [new X509Certificate(otherCa.intermediatePem)], 'CERT_UNTRUSTED');
    expectVerifyError(verifier(), mallory, [intermediate], 'CERT_UNTRUSTED');
  });

  it('refuses expired and not-yet-valid certificates, using the injected clock', async () => {
    const expired = (
      await issueClientCert(dir, 'expired', {
        pkcs12: false,
        notBefore: new Date(Date.now() - 48 * HOUR),
        notAfter: new Date(Date.now() - 24 * HOUR),
      })
    ).certificate;
    expectVerifyError(verifier(), expired, [intermediate], 'CERT_EXPIRED');
    const future = (
      await issueClientCert(dir, 'future', {
        pkcs12: false,
        notBefore: new Date(Date.now() + 24 * HOUR),
        notAfter: new Date(Date.now() + 48 * HOUR),
      })
    ).certificate;
    expectVerifyError(verifier(), future, [intermediate], 'CERT_NOT_YET_VALID');

    now = new Date(Date.now() + 13 * HOUR);
    expectVerifyError(verifier(), alice, [intermediate], 'CERT_EXPIRED');
    now = new Date(Date.now() - 2 * HOUR);
    expectVerifyError(verifier(), alice, [intermediate], 'CERT_NOT_YET_VALID');
    now = new Date(Date.now() + 12 * HOUR + 30_000);
    expect(() => verifier({ clockToleranceSeconds: 60 }).verify(alice, [intermediate])).not.toThrow();
    // The anchor's dates count too.
    now = new Date(Date.now() + 11 * 365 * 24 * HOUR);
    expectVerifyError(verifier(), alice, [intermediate], 'CERT_EXPIRED');
  });

  it('requires clientAuth in the extended key usage', async () => {
    const noEku = (await issueClientCert(dir, 'no-eku', { pkcs12: false, extendedKeyUsages: [] }))
      .certificate;
    expectVerifyError(verifier(), noEku, [intermediate], 'CERT_EKU_MISSING');
    expect(() => verifier({ requireClientAuth: false }).verify(noEku, [intermediate])).not.toThrow();
    const server = (await issueServerCert(dir, 'localhost')).certificate;
    expectVerifyError(verifier(), server, [intermediate], 'CERT_EKU_MISSING');
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  describe('revocation', () => {
    it('refuses a certificate listed in the CA CRL, and only that one', async () => {
      const bob = await issueClientCert(dir, 'bob', { pkcs12: false });
      const { crlPem } = await revoke(dir, bob.serialNumber);
      const crl = await CrlRevocationList.load(crlPem, [intermediate]);
      expect(crl.isRevoked(bob.serialNumber.toLowerCase())).toBe(true);
      expect(crl.isRevoked(`00${bob.serialNumber}`)).toBe(true);
      expect(crl.isRevoked(bob.certificate.serialNumber.match(/../g)?.join(':') ?? '')).toBe(true);
      expect(crl.isRevoked(alice.serialNumber)).toBe(false);
      expectVerifyError(verifier({ crls: [crl] }), bob.certificate, [intermediate], 'CERT_REVOKED');
      expect(() => verifier({ crls: [crl] }).verify(alice, [intermediate])).not.toThrow();
      // The CRL file on disk (DER or PEM) loads the same way, against a PEM bundle.
      const fromFile = await CrlRevocationList.loadFile(caLayout(dir).crl, ca.caBundlePem);
      expect(fromFile.isRevoked(bob.serialNumber)).toBe(true);
    });

    it('refuses a CRL signed by another CA, or tampered with', async () => {
      const { crlPem: otherCrl } = await revoke(otherDir, '01');
      await expect(CrlRevocationList.load(otherCrl, [intermediate, root])).rejects.toMatchObject({
        code: 'CERT_CRL_INVALID',
      });
      const der = Buffer.from(otherCrl.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
      await expect(CrlRevocationList.load(der, otherCa.caBundlePem)).resolves.toBeInstanceOf(
        CrlRevocationList,
      );
      der[der.length - 5] ^= 0x01;
      await expect(CrlRevocationList.load(der, otherCa.caBundlePem)).rejects.toMatchObject({
        code: 'CERT_CRL_INVALID',
      });
      await expect(CrlRevocationList.load('not a crl', [intermediate])).rejects.toMatchObject({
        code: 'CERT_CRL_INVALID',
      });
    });

    it('fails closed on a stale CRL and, when required, on a missing one', async () => {
      const { crlPem } = await revoke(dir, 'ABCDEF', {
        now: new Date(Date.now() - 48 * HOUR),
        nextUpdateHours: 1,
      });
      const stale = await CrlRevocationList.load(crlPem, [intermediate]);
      expectVerifyError(verifier({ crls: [stale] }), alice, [intermediate], 'CERT_REVOCATION_UNKNOWN');
      expectVerifyError(
        verifier({ requireRevocationCheck: true }),
        alice,
        [intermediate],
        'CERT_REVOCATION_UNKNOWN',
      );
      const fresh = await CrlRevocationList.load((await revoke(dir, 'ABCDEF')).crlPem, [intermediate]);
      expect(() =>
        verifier({ crls: [fresh], requireRevocationCheck: true }).verify(alice, [intermediate]),
      ).not.toThrow();
    });
  });

  describe('CA constraints', () => {
    let intermediateKeyPem: string;
    beforeAll(async () => {
      intermediateKeyPem = await readFile(caLayout(dir).intermediateKey, 'utf8');
    });

    it('refuses a path through a certificate that is not a CA', async () => {
      const aliceKey = await readFile(join(dir, 'clients', 'alice', 'key.pem'), 'utf8');
      const { cert } = await craft(alice, aliceKey, 'child-of-alice', [
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ]);
      expectVerifyError(verifier(), cert, [alice, intermediate], 'CERT_UNTRUSTED');
    });

    it('enforces the path length constraint of the intermediate (pathLen 0)', async () => {
      const sub = await craft(intermediate, intermediateKeyPem, 'sub-ca', [
        new x509.BasicConstraintsExtension(true, undefined, true),
      ]);
      const leaf = await craft(sub.cert, sub.keyPem, 'deep-leaf', [
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ]);
      expectVerifyError(verifier(), leaf.cert, [sub.cert, intermediate], 'CERT_UNTRUSTED');
    });

    it('refuses a leaf that is a CA and unknown critical extensions', async () => {
      const caLeaf = await craft(intermediate, intermediateKeyPem, 'ca-leaf', [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ]);
      expectVerifyError(verifier(), caLeaf.cert, [intermediate], 'CERT_UNTRUSTED');
      const critical = await craft(intermediate, intermediateKeyPem, 'critical', [
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        new x509.Extension('1.3.6.1.4.1.99999.1', true, new Uint8Array([0x05, 0x00])),
      ]);
      expectVerifyError(verifier(), critical.cert, [intermediate], 'CERT_UNTRUSTED');
    });
  });

  describe('hostile chains and the verdict cache', () => {
    /** Counts the issuer checks (name/key identifier match) and signature verifications `fn` makes. */
    const work = (fn: () => void): { checks: number; signatures: number } => {
      const checks = jest.spyOn(X509Certificate.prototype, 'checkIssued');
      const signatures = jest.spyOn(X509Certificate.prototype, 'verify');
      try {
        fn();
        return { checks: checks.mock.calls.length, signatures: signatures.mock.calls.length };
      } finally {
        checks.mockRestore();
        signatures.mockRestore();
      }
    };
    const refused =
      (v: CertificateVerifier, leaf: X509Certificate, chain: readonly X509Certificate[]) => () =>
        expectVerifyError(v, leaf, chain, 'CERT_UNTRUSTED');

    it('bounds the work on 12 self-issued look-alike CAs, and does none for the same chain again', async () => {
      const hostile = await hostileChain(12, 'keypair-auth local CA Root');
      const v = verifier();
      // Before the bound: every permutation up to maxIntermediates, ~170 checks and ~150 signatures.
      const cold = work(refused(v, hostile.leaf, hostile.chain));
      expect(cold.checks).toBeLessThanOrEqual(30);
      expect(cold.signatures).toBeLessThanOrEqual(4);
      expect(work(refused(v, hostile.leaf, hostile.chain))).toEqual({ checks: 0, signatures: 0 });
      // With the cache off, every call does the (bounded) work again, and refuses the same way.
      const uncached = verifier({ verdictCacheSize: 0 });
      for (let i = 0; i < 2; i++) expect(work(refused(uncached, hostile.leaf, hostile.chain))).toEqual(cold);
    });

    it('still finds the path when a look-alike of the intermediate comes first', async () => {
      const hostile = await hostileChain(10, intermediate.subject.replace(/^CN=/, ''));
      expect(verifier().verify(alice, [...hostile.chain, intermediate]).path).toHaveLength(3);
    });

    it('caches a verdict only while the clock stays between the dates that decide it', async () => {
      const v = verifier();
      expect(v.verify(alice, [intermediate]).path).toHaveLength(3);
      expect(work(() => v.verify(alice, [intermediate]))).toEqual({ checks: 0, signatures: 0 });
      now = new Date(Date.now() + 13 * HOUR); // past alice's notAfter
      expectVerifyError(v, alice, [intermediate], 'CERT_EXPIRED');
      const future = (
        await issueClientCert(dir, 'future-cached', {
          pkcs12: false,
          notBefore: new Date(Date.now() + HOUR),
          notAfter: new Date(Date.now() + 48 * HOUR),
        })
      ).certificate;
      now = new Date();
      expectVerifyError(v, future, [intermediate], 'CERT_NOT_YET_VALID');
      now = new Date(Date.now() + 2 * HOUR);
      expect(v.verify(future, [intermediate]).path).toHaveLength(3);
    });

    it('caches a verdict for one CRL: a verifier with a newer CRL decides again', async () => {
      const carol = await issueClientCert(dir, 'carol-cached', { pkcs12: false });
      const before = await CrlRevocationList.load(
        (await revoke(dir, 'ABCDEF', { nextUpdateHours: 1 })).crlPem,
        [intermediate],
      );
      const v = verifier({ crls: [before] });
      expect(v.verify(carol.certificate, [intermediate]).path).toHaveLength(3);
      const after = await CrlRevocationList.load((await revoke(dir, carol.serialNumber)).crlPem, [
        intermediate,
      ]);
      expectVerifyError(verifier({ crls: [after] }), carol.certificate, [intermediate], 'CERT_REVOKED');
      // A CRL past its nextUpdate is not current: the cached verdict of a current one ends there.
      now = new Date(Date.now() + 2 * HOUR);
      expectVerifyError(v, carol.certificate, [intermediate], 'CERT_REVOCATION_UNKNOWN');
    });
  });

  describe('what OpenSSL refuses and this verifier does not evaluate, or finds too weak', () => {
    let pki: TestPki;
    beforeAll(async () => {
      pki = await createTestPki();
    }, 30_000);
    afterAll(async () => pki?.cleanup());
    const verifyCrafted = (kind: 'nameConstrained' | 'weak') => {
      const client = craftUnusualClient(pki, kind, 'mallory');
      const verifier = new CertificateVerifier({ trustAnchors: pki.ca.rootPem });
      return () => verifier.verify(client.certificate, [new X509Certificate(client.chainPem)]);
    };

    it('refuses a path through a CA with a non-critical nameConstraints extension, naming why', () => {
      expect(verifyCrafted('nameConstrained')).toThrow(
        expect.objectContaining({
          code: 'CERT_UNTRUSTED',
          message: expect.stringMatching(
            /intermediate 1 has a nameConstraints extension: name constraints are not supported, use a CA without them/,
          ),
        }),
      );
    });

    it('refuses an RSA-1024 leaf signed with SHA-1 by a real intermediate', () => {
      expect(verifyCrafted('weak')).toThrow(
        expect.objectContaining({
          code: 'CERT_UNTRUSTED',
          message: 'leaf has an RSA key of 1024 bits (at least 2048 required)',
        }),
      );
    });

    it('refuses a SHA-1 signature and a P-521 key in the path, and accepts P-384 with SHA-384', async () => {
      const intermediateKeyPem = await readFile(caLayout(dir).intermediateKey, 'utf8');
      const eku = () => [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])];
      const sha1 = await craft(intermediate, intermediateKeyPem, 'sha1-signed', eku(), {
        signingHash: 'SHA-1',
      });
      expect(() => verifier().verify(sha1.cert, [intermediate])).toThrow(
        expect.objectContaining({
          code: 'CERT_UNTRUSTED',
          message: expect.stringMatching(
            /^leaf is signed with an algorithm refused here \(SHA-1, MD5 or unknown\)/,
          ),
        }),
      );
      const p521 = await craft(intermediate, intermediateKeyPem, 'p521', eku(), { curve: 'P-521' });
      expect(() => verifier().verify(p521.cert, [intermediate])).toThrow(
        'leaf has an EC key on secp521r1 (P-256 or P-384 required)',
      );
      const p384 = await craft(intermediate, intermediateKeyPem, 'p384', eku(), {
        curve: 'P-384',
        signingHash: 'SHA-384',
      });
      expect(verifier().verify(p384.cert, [intermediate]).leaf).toBe(p384.cert);
    });
  });

  it('validates its configuration', () => {
    expect(() => new CertificateVerifier({ trustAnchors: 'garbage' })).toThrow(
      expect.objectContaining({ code: 'CERT_CONFIG_INVALID' }),
    );
    expect(() => new CertificateVerifier({ trustAnchors: [] })).toThrow(
      expect.objectContaining({ code: 'CERT_CONFIG_INVALID' }),
    );
    // RFC 7468 explanatory text around blocks is fine in a configured bundle.
    const commented = `# Local CA\nsubject=CN=x\n${ca.rootPem}\n# end\n`;
    expect(() => new CertificateVerifier({ trustAnchors: commented })).not.toThrow();
    expect(() => verifier({ clock: () => new Date(NaN) }).verify(alice, [intermediate])).toThrow(
      expect.objectContaining({ code: 'CERT_CONFIG_INVALID' }),
    );
  });
});
