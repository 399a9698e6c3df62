import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { initCa, issueClientCert, SubjectSpec } from './ca';
import { readCertificateIdentity, readCertificateSubject, readSubjectAltNames } from './certificate-identity';
import {
  distinguishedNamesEqual,
  formatDistinguishedName,
  parseDistinguishedName,
  requireSingleCn,
} from './distinguished-name';

const HOSTILE: Record<string, { subject: SubjectSpec; cn: string | null }> = {
  slashInCn: { subject: [[{ type: 'CN', value: 'mallory/CN=admin' }]], cn: 'mallory/CN=admin' },
  commaInO: {
    subject: [[{ type: 'O', value: 'Evil, CN=admin' }], [{ type: 'CN', value: 'mallory' }]],
    cn: 'mallory',
  },
  newlineInO: {
    subject: [[{ type: 'O', value: 'Evil\nCN=admin' }], [{ type: 'CN', value: 'mallory' }]],
    cn: 'mallory',
  },
  twoCns: { subject: [[{ type: 'CN', value: 'alice' }], [{ type: 'CN', value: 'admin' }]], cn: null },
  twoCnsInOneRdn: {
    subject: [
      [
        { type: 'CN', value: 'alice' },
        { type: 'CN', value: 'admin' },
      ],
    ],
    cn: null,
  },
  utf8: {
    subject: [[{ type: 'C', value: 'HR' }], [{ type: 'CN', value: 'Lučić 日本 😀' }]],
    cn: 'Lučić 日本 😀',
  },
  bmpString: { subject: [[{ type: 'CN', value: 'Ωmega', encoding: 'bmpString' }]], cn: 'Ωmega' },
  specials: { subject: [[{ type: 'CN', value: ' #admin+x,"y"\\<z>;=w ' }]], cn: ' #admin+x,"y"\\<z>;=w ' },
  hashPrefix: { subject: [[{ type: 'CN', value: '#0c0561646d696e' }]], cn: '#0c0561646d696e' },
  multiValued: {
    subject: [
      [
        { type: 'O', value: 'Org' },
        { type: 'CN', value: 'carol' },
      ],
    ],
    cn: 'carol',
  },
};

function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('structural certificate identity', () => {
  let dir: string;
  const certs: Record<string, X509Certificate> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpa-identity-'));
    await initCa(dir);
    for (const [name, { subject }] of Object.entries(HOSTILE)) {
      certs[name] = (await issueClientCert(dir, name, { subject, pkcs12: false })).certificate;
    }
    certs.withSans = (
      await issueClientCert(dir, 'sans', {
        pkcs12: false,
        subjectAltNames: {
          dns: ['alice.example'],
          uri: ['spiffe://example.org/alice'],
          email: ['alice@example.org'],
          ip: ['127.0.0.1', '::1', '2001:db8::8:800:200c:417a', 'fe80:0:0:1::'],
        },
      })
    ).certificate;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each(Object.entries(HOSTILE))(
    '%s: the subject is read attribute by attribute',
    (name, { subject, cn }) => {
      const dn = readCertificateSubject(certs[name]);
      expect(dn.map((rdn) => rdn.map((a) => [a.type, a.kind === 'string' ? a.value : 'BER']))).toEqual(
        subject.map((rdn) => rdn.map((a) => [a.type, a.value])),
      );
      if (cn === null) {
        expect(() => requireSingleCn(dn)).toThrow(expect.objectContaining({ code: 'CERT_SUBJECT_INVALID' }));
      } else {
        expect(requireSingleCn(dn)).toBe(cn);
      }
    },
  );

  it('a "#..." CN stays a string (toJSON would render it like a BER value)', () => {
    const [[attribute]] = readCertificateSubject(certs.hashPrefix);
    expect(attribute).toMatchObject({ kind: 'string', encoding: 'utf8String', value: '#0c0561646d696e' });
  });

  it('shows why string forms are not used: a naive CN regex finds "admin"', () => {
    const naive = (subject: string) => /CN=([^,\n/+]+)/.exec(subject.replace(/\\/g, ''))?.[1];
    expect(naive(new x509.X509Certificate(certs.commaInO.raw).subject)).toBe('admin');
    expect(naive(certs.newlineInO.subject)).toBe('admin');
    expect(requireSingleCn(readCertificateSubject(certs.commaInO))).toBe('mallory');
  });

  it('formats to RFC 4514 and parses back to the same name', () => {
    for (const cert of Object.values(certs)) {
      const dn = readCertificateSubject(cert);
      expect(distinguishedNamesEqual(parseDistinguishedName(formatDistinguishedName(dn)), dn)).toBe(true);
    }
  });

  // Skipped only where no openssl binary is installed (.ci/run installs it): openssl is the reference.
  (opensslAvailable() ? it : it.skip)(
    'parses OpenSSL -nameopt RFC2253 output to the structural subject',
    () => {
      for (const [name, cert] of Object.entries(certs)) {
        const output = execFileSync('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], {
          input: cert.toString(),
        }).toString();
        const text = output.replace(/^subject=/, '').replace(/\n$/, '');
        const parsed = parseDistinguishedName(text);
        expect({ name, equal: distinguishedNamesEqual(parsed, readCertificateSubject(cert)) }).toEqual({
          name,
          equal: true,
        });
      }
    },
  );

  it('reads SAN entries as typed values', () => {
    expect(readSubjectAltNames(certs.withSans)).toEqual({
      dns: ['alice.example'],
      uri: ['spiffe://example.org/alice'],
      email: ['alice@example.org'],
      ip: ['127.0.0.1', '::1', '2001:db8::8:800:200c:417a', 'fe80:0:0:1::'],
      otherCount: 0,
    });
    expect(readSubjectAltNames(certs.slashInCn)).toEqual({
      dns: [],
      uri: [],
      email: [],
      ip: [],
      otherCount: 0,
    });
  });

  it('refuses invalid UTF-8, which a string decoder maps onto another valid name', async () => {
    const legit = (
      await issueClientCert(dir, 'y-diaeresis', {
        subject: [[{ type: 'CN', value: '\u00ff' }]],
        pkcs12: false,
      })
    ).certificate;
    const patched = Buffer.from(
      (await issueClientCert(dir, 'single-q', { subject: [[{ type: 'CN', value: 'Q' }]], pkcs12: false }))
        .certificate.raw,
    );
    patched[patched.indexOf(Buffer.from([0x0c, 0x01, 0x51])) + 2] = 0xff; // UTF8String "Q" -> the lone byte FF
    // @peculiar/x509 (asn1js) falls back to latin1 for invalid UTF-8: both names read "ÿ".
    const viaLibrary = (der: Uint8Array) => new x509.X509Certificate(der).subjectName.toJSON()[0].CN[0];
    expect(viaLibrary(patched)).toBe(viaLibrary(legit.raw));
    expect(requireSingleCn(readCertificateSubject(legit))).toBe('\u00ff');
    expect(() => readCertificateSubject(patched)).toThrow(
      expect.objectContaining({ code: 'CERT_SUBJECT_INVALID' }),
    );
  });

  it('refuses a SAN entry with a NUL byte (null-prefix attack)', () => {
    const der = Buffer.from(certs.withSans.raw);
    const at = der.indexOf(Buffer.from('alice.example'));
    der[at + 5] = 0x00;
    expect(() => readSubjectAltNames(der)).toThrow(expect.objectContaining({ code: 'CERT_SUBJECT_INVALID' }));
  });

  it('bundles identity facts', () => {
    const identity = readCertificateIdentity(certs.utf8);
    expect(identity.fingerprints.sha256Hex).toBe(certs.utf8.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(Buffer.from(identity.fingerprints.x5tS256, 'base64url').toString('hex')).toBe(
      identity.fingerprints.sha256Hex,
    );
    expect(identity.serialNumber).toMatch(/^[1-9A-F][0-9A-F]*$/);
    expect(identity.notBefore.getTime()).toBeLessThan(identity.notAfter.getTime());
    expect(requireSingleCn(identity.issuer)).toBe('keypair-auth local CA Intermediate');
  });
});
