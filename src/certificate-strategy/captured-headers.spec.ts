import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDistinguishedName, requireSingleCn } from '../certificates';
import type { AuthUser } from '../context/security-context';
import type { KeyRegistry } from '../keys/key-registry';
import type { CertificateRegistry } from './certificate-registry';
import { ClientCertificateOptions, validateClientCertificateOptions } from './client-certificate-options';
import { ClientCertificateAuthenticator } from './client-certificate.authenticator';

/**
 * The whole strategy policy on header values captured from a real nginx
 * (test/fixtures/certificates/captures, written by test/certificates/nginx.e2e-spec.ts
 * with KPA_WRITE_CAPTURES=1). The certificate decoding itself is also run by
 * src/certificates/forwarded-certificate.fixtures.spec.ts on the same files.
 */
interface Capture {
  readonly description: string;
  readonly rawHeaders: string[];
  readonly expect: { sha256?: string; cn?: string; error?: string };
  readonly subjectDn?: { header: string; value: string };
  readonly verify?: { trustAnchorsPem: string; at: string };
  readonly source: string;
}

const DIR = join(__dirname, '..', '..', 'test', 'fixtures', 'certificates', 'captures');
const captures = readdirSync(DIR)
  .filter((file) => file.startsWith('nginx-') && file.endsWith('.json'))
  .sort()
  .map((file): [string, Capture] => [file, JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Capture]);

/** Expected result per capture, in certificate mode and in the legacy DN mode. */
const OUTCOMES: Record<string, { certificate: string; legacy: string }> = {
  'nginx-valid.json': { certificate: 'alice', legacy: 'alice' },
  'nginx-no-certificate.json': { certificate: 'CERT_MISSING', legacy: 'CERT_MISSING' },
  'nginx-untrusted-ca.json': { certificate: 'CERT_VERIFY_FAILED', legacy: 'CERT_VERIFY_FAILED' },
  'nginx-hostile-subject.json': { certificate: 'mallory', legacy: 'mallory' },
  'nginx-cn-with-slash.json': { certificate: 'CERT_SUBJECT_INVALID', legacy: 'CERT_SUBJECT_INVALID' },
};

const users = new Map<string, AuthUser>(
  ['alice', 'mallory', 'admin'].map((u) => [u, { id: u, username: u, roles: ['reader'], active: true }]),
);
const keys = {
  findUserById: async (id: string) => users.get(id) ?? null,
  findUserByUsername: async (name: string) => users.get(name) ?? null,
} as unknown as KeyRegistry;
const certificates = { findByFingerprint: async () => null } as unknown as CertificateRegistry;
const fromNginx = (rawHeaders: string[]) => ({ rawHeaders, remoteAddress: '10.0.0.5', tls: null });

async function outcome(options: ClientCertificateOptions, capture: Capture): Promise<string> {
  const at = Date.parse(capture.verify?.at ?? /\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(capture.source)![0]);
  const authenticator = await ClientCertificateAuthenticator.create(
    keys,
    certificates,
    validateClientCertificateOptions(options)!,
    { clockSkewMs: 0, clock: () => at },
  );
  return authenticator.authenticate(fromNginx(capture.rawHeaders)).then(
    (context) => context.username,
    (error: { code?: string }) => error.code ?? String(error),
  );
}

describe('captured nginx headers through the client-certificate policy', () => {
  it('has the captures this spec knows', () => {
    expect(captures.map(([file]) => file).sort()).toEqual(Object.keys(OUTCOMES).sort());
  });

  describe.each(captures)('%s', (file, capture) => {
    it(`certificate mode (format nginx, mapping subject-cn): ${OUTCOMES[file].certificate}`, async () => {
      const options: ClientCertificateOptions = {
        format: 'nginx',
        trustedProxies: ['10.0.0.5'],
        mapping: { by: 'subject-cn' },
      };
      expect(await outcome(options, capture)).toBe(OUTCOMES[file].certificate);
      if (capture.verify) {
        const reverified = { ...options, caBundle: capture.verify.trustAnchorsPem };
        expect(await outcome(reverified, capture)).toBe(OUTCOMES[file].certificate);
      }
    });

    it(`legacy DN mode ($ssl_client_s_dn): ${OUTCOMES[file].legacy}`, async () => {
      const options: ClientCertificateOptions = {
        format: 'legacy-subject-dn',
        trustForwardedCertificatesWithoutVerification: true,
        trustedProxies: ['10.0.0.5'],
        subjectDnHeader: 'x-ssl-client-s-dn',
        verifyHeader: 'x-ssl-client-verify',
        mapping: { by: 'subject-cn' },
      };
      expect(await outcome(options, capture)).toBe(OUTCOMES[file].legacy);
    });

    if (capture.subjectDn) {
      const { value } = capture.subjectDn;
      it('the RFC 2253 subject from nginx parses to the certificate’s own CN, without splitting on "/" or ","', () => {
        expect(requireSingleCn(parseDistinguishedName(value))).toBe(capture.expect.cn);
      });
    }
  });
});
