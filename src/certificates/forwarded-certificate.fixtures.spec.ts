import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateError, CertificateErrorCode } from './certificate-error';
import { certificateFingerprints } from './certificate-fingerprint';
import { readCertificateSubject } from './certificate-identity';
import { CertificateVerifier } from './certificate-verifier';
import { requireSingleCn } from './distinguished-name';
import {
  createForwardedCertificateParser,
  FORWARDED_CERTIFICATE_FORMATS,
  ForwardedCertificateFormat,
  ForwardedCertificateParserOptions,
} from './forwarded-certificate.parser';
import { ClientVerifyOutcome, parseClientVerifyStatus } from './verify-status.parser';

/**
 * Runs every header capture in test/fixtures/certificates/{captures,synthetic}
 * through the configured parser. The file format is documented in
 * test/fixtures/certificates/README.md.
 */
interface Fixture {
  readonly description: string;
  readonly source: string;
  readonly format: ForwardedCertificateFormat;
  readonly parser?: Omit<ForwardedCertificateParserOptions, 'format'>;
  readonly rawHeaders: string[];
  readonly expect:
    | { readonly sha256: string; readonly chain?: string[]; readonly cn?: string }
    | { readonly error: CertificateErrorCode };
  readonly verifyStatus?: { readonly header: string; readonly outcome: ClientVerifyOutcome };
  readonly verify?: {
    readonly trustAnchorsPem: string;
    readonly intermediatesPem?: string;
    readonly at: string;
  };
}

const ROOT = join(__dirname, '..', '..', 'test', 'fixtures', 'certificates');

function loadFixtures(): [string, Fixture][] {
  return ['captures', 'synthetic'].flatMap((folder) => {
    const dir = join(ROOT, folder);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file): [string, Fixture] => [
        `${folder}/${file}`,
        JSON.parse(readFileSync(join(dir, file), 'utf8')) as Fixture,
      ]);
  });
}

const fixtures = loadFixtures();

describe('forwarded certificate fixtures', () => {
  it('has fixtures in the documented shape', () => {
    expect(fixtures.length).toBeGreaterThan(0);
    for (const [name, fixture] of fixtures) {
      expect({ name, format: FORWARDED_CERTIFICATE_FORMATS.includes(fixture.format) }).toEqual({
        name,
        format: true,
      });
      expect({
        name,
        rawHeaders: Array.isArray(fixture.rawHeaders) && fixture.rawHeaders.length % 2 === 0,
      }).toEqual({
        name,
        rawHeaders: true,
      });
      expect({ name, expect: 'sha256' in fixture.expect || 'error' in fixture.expect }).toEqual({
        name,
        expect: true,
      });
    }
  });

  describe.each(fixtures)('%s', (_name, fixture) => {
    const parser = createForwardedCertificateParser({ ...fixture.parser, format: fixture.format });

    it(fixture.description, () => {
      const expected = fixture.expect;
      if ('error' in expected) {
        expect(() => parser.parse(fixture.rawHeaders)).toThrow(
          expect.objectContaining({ code: expected.error }),
        );
        return;
      }
      const result = parser.parse(fixture.rawHeaders);
      expect(certificateFingerprints(result.leaf).sha256Hex).toBe(expected.sha256.toLowerCase());
      if (expected.chain !== undefined) {
        expect(result.chain.map((cert) => certificateFingerprints(cert).sha256Hex)).toEqual(
          expected.chain.map((hex) => hex.toLowerCase()),
        );
      }
      if (expected.cn !== undefined)
        expect(requireSingleCn(readCertificateSubject(result.leaf))).toBe(expected.cn);
      if (fixture.verify !== undefined) {
        const at = new Date(fixture.verify.at);
        const verifier = new CertificateVerifier({
          trustAnchors: fixture.verify.trustAnchorsPem,
          intermediates: fixture.verify.intermediatesPem,
          clock: () => at,
        });
        expect(verifier.verify(result.leaf, result.chain).leaf.raw.equals(result.leaf.raw)).toBe(true);
      }
    });

    if (fixture.verifyStatus !== undefined) {
      const status = fixture.verifyStatus;
      it(`reports verification status ${status.outcome}`, () => {
        expect(parseClientVerifyStatus(fixture.rawHeaders, status.header).outcome).toBe(status.outcome);
      });
    }

    it('refuses the certificate header when a second copy is appended', () => {
      const names = new Set(parser.headerNames);
      const first = fixture.rawHeaders.findIndex((value, i) => i % 2 === 0 && names.has(value.toLowerCase()));
      if (first < 0 || fixture.rawHeaders[first].toLowerCase() !== parser.headerNames[0]) return;
      const doubled = [...fixture.rawHeaders, fixture.rawHeaders[first], fixture.rawHeaders[first + 1]];
      expect(() => parser.parse(doubled)).toThrow(CertificateError);
    });
  });
});
