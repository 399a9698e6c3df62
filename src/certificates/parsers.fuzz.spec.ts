import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fuzzParams, printFuzzCounts } from '../../test/support/fuzz';
import { initCa, issueClientCert } from './ca';
import { decodeCertificateDer } from './certificate-decoding';
import { CertificateError } from './certificate-error';
import { readCertificateSubject, readSubjectAltNames } from './certificate-identity';
import { CrlRevocationList } from './crl-revocation-list';
import { parseDistinguishedName } from './distinguished-name';
import { encodeForwardedCertificate } from './forwarded-certificate.encoder';
import {
  createForwardedCertificateParser,
  FORWARDED_CERTIFICATE_FORMATS,
} from './forwarded-certificate.parser';
import { normalizeSerialNumber } from './serial-number';
import { parseClientVerifyStatus } from './verify-status.parser';
import { parseXfcc } from './xfcc';

/**
 * Properties: whatever the input, every parser either returns or throws a
 * CertificateError, never anything else. Random text rarely gets past the
 * first check, so most properties mutate valid encodings instead.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
afterAll(printFuzzCounts);

function onlyCertificateErrors(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (error instanceof CertificateError) return true;
    throw error;
  }
}

async function onlyCertificateErrorsAsync(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (error) {
    if (error instanceof CertificateError) return true;
    throw error;
  }
}

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'binary-ascii', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...'%0aA=+/:;,"\\ -#<>()\t\r\n'.split('')), maxLength: 200 }),
);

interface Edit {
  readonly at: number;
  readonly remove: number;
  readonly insert: string;
}

const editsArb = fc.array(
  fc.record({
    at: fc.nat(),
    remove: fc.nat({ max: 4 }),
    insert: fc.string({ unit: 'binary-ascii', maxLength: 4 }),
  }),
  { minLength: 1, maxLength: 4 },
);

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const edit of edits) {
    const at = edit.at % (out.length + 1);
    out = out.slice(0, at) + edit.insert + out.slice(at + edit.remove);
  }
  return out;
}

function applyByteEdits(bytes: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let out = Buffer.from(bytes);
  for (const edit of edits) {
    const at = edit.at % (out.length + 1);
    out = Buffer.concat([
      out.subarray(0, at),
      Buffer.from(edit.insert, 'latin1'),
      out.subarray(at + edit.remove),
    ]);
  }
  return out;
}

describe('parsers never throw anything but CertificateError (fast-check)', () => {
  let dir: string;
  let leaf: X509Certificate;
  let intermediate: X509Certificate;
  let crlPem: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpa-fuzz-'));
    const ca = await initCa(dir);
    intermediate = new X509Certificate(ca.intermediatePem);
    leaf = (
      await issueClientCert(dir, 'fuzz', {
        pkcs12: false,
        subject: [[{ type: 'O', value: 'Evil, CN=admin' }], [{ type: 'CN', value: 'mallory/CN=admin' }]],
        subjectAltNames: { dns: ['a.example'], ip: ['::1'], uri: ['spiffe://x'], email: ['a@b.c'] },
      })
    ).certificate;
    crlPem = ca.crlPem;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  describe.each(FORWARDED_CERTIFICATE_FORMATS.map((format) => [format]))('%s', (format) => {
    // Apache and HAProxy read their chain headers too (the names the encoder writes).
    const chainHeader = { apache: 'ssl_client_cert_chain_', haproxy: 'x-ssl-client-chain' }[format as string];
    const parser = () =>
      createForwardedCertificateParser({
        format,
        xfccSingleElement: format === 'envoy-xfcc' || undefined,
        chainHeader,
      });

    it('random header values', () => {
      const p = parser();
      fc.assert(
        fc.property(fc.array(anyText, { maxLength: 3 }), (values) =>
          onlyCertificateErrors(() =>
            p.parse(values.flatMap((value) => [...p.headerNames.slice(0, 1), value])),
          ),
        ),
        fuzzParams(`forwarded-certificate/${format}`, RUNS),
      );
    });

    it('mutated valid encodings, with and without a chain', () => {
      const p = parser();
      const encoded = [
        encodeForwardedCertificate(format, leaf),
        encodeForwardedCertificate(format, leaf, [intermediate]),
      ];
      fc.assert(
        fc.property(fc.constantFrom(...encoded), editsArb, fc.nat({ max: 3 }), (headers, edits, which) => {
          const mutated = [...headers];
          const index = (which % (mutated.length / 2)) * 2 + 1;
          mutated[index] = applyEdits(mutated[index], edits);
          return onlyCertificateErrors(() => p.parse(mutated));
        }),
        fuzzParams(`forwarded-certificate/${format}`, RUNS),
      );
    });

    it('random rawHeaders shapes', () => {
      const p = parser();
      const names = fc.constantFrom(...p.headerNames, 'host', 'x-other');
      fc.assert(
        fc.property(fc.array(fc.oneof(names, anyText), { maxLength: 7 }), (raw) =>
          onlyCertificateErrors(() => p.parse(raw)),
        ),
        fuzzParams(`forwarded-certificate/${format}`, RUNS),
      );
    });
  });

  it('verification status', () => {
    const values = fc.oneof(
      anyText,
      fc.constantFrom('SUCCESS', 'NONE', 'FAILED:x', '(null)', 'GENEROUS', ''),
    );
    fc.assert(
      fc.property(fc.array(values, { maxLength: 3 }), (lines) =>
        onlyCertificateErrors(() =>
          parseClientVerifyStatus(lines.flatMap((line) => ['x-ssl-client-verify', line])),
        ),
      ),
      fuzzParams('verify-status', RUNS),
    );
  });

  it('HAProxy verification status: success only for exactly "0"', () => {
    const values = fc.oneof(
      anyText,
      fc.stringMatching(/^[ +\-0]{0,3}[0-9]{0,12}[ .x]?[0-9]?$/),
      fc.constantFrom('0', '00', '+0', '-0', '0x0', '', '20', ' 0', '0 '),
    );
    fc.assert(
      fc.property(fc.array(values, { maxLength: 3 }), (lines) => {
        let outcome = 'threw';
        const onlyOurs = onlyCertificateErrors(() => {
          outcome = parseClientVerifyStatus(
            lines.flatMap((line) => ['x-ssl-client-verify', line]),
            'x-ssl-client-verify',
            'haproxy',
          ).outcome;
        });
        // Spaces and tabs around the value are HTTP whitespace (trimmed), never part of it.
        const success = lines.length === 1 && lines[0].replace(/^[ \t]+|[ \t]+$/g, '') === '0';
        return onlyOurs && (outcome === 'success') === success;
      }),
      fuzzParams('verify-status/haproxy', RUNS),
    );
  });

  it('distinguished names: random text and mutated valid names', () => {
    const valid =
      'CN=James \\"Jim\\" Smith\\, III+UID=x,OU=Sales\\0d,1.3.6.1.4.1.1466.0=#04024869,DC=Lu\\C4\\8Di\\C4\\87';
    const dnAlphabet = fc.string({
      unit: fc.constantFrom(...'CNOU=,+\\#"; 0aC4.1<>\u00e9\ud83d\ude00'.split('')),
      maxLength: 60,
    });
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          dnAlphabet,
          editsArb.map((edits) => applyEdits(valid, edits)),
        ),
        (text) => onlyCertificateErrors(() => parseDistinguishedName(text)),
      ),
      fuzzParams('rfc4514-name', RUNS),
    );
  });

  it('XFCC grammar: random text and mutated valid headers', () => {
    const valid = encodeForwardedCertificate('envoy-xfcc', leaf, [], {
      xfcc: { by: 'spiffe://p', subject: 'CN=a\\, b;"q"', uri: ['spiffe://a'], dns: ['a.example'] },
    })[1];
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          editsArb.map((edits) => applyEdits(valid, edits)),
        ),
        (text) => onlyCertificateErrors(() => parseXfcc(text)),
      ),
      fuzzParams('xfcc', RUNS),
    );
  });

  it('DER decoding and structural reads of mutated certificates', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          editsArb.map((edits) => applyByteEdits(leaf.raw, edits)),
        ),
        (der) =>
          onlyCertificateErrors(() => {
            // The structural readers also get DER that Node refused, as a caller with raw bytes could pass it.
            onlyCertificateErrors(() => readCertificateSubject(der));
            onlyCertificateErrors(() => readSubjectAltNames(der));
            decodeCertificateDer(der);
          }),
      ),
      fuzzParams('certificate-der', RUNS),
    );
  });

  it('serial numbers', () => {
    fc.assert(
      fc.property(anyText, (text) => onlyCertificateErrors(() => normalizeSerialNumber(text))),
      fuzzParams('serial-number', RUNS),
    );
  });

  it('CRL loading: random and mutated CRLs', async () => {
    const der = Buffer.from(crlPem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          editsArb.map((edits) => applyByteEdits(der, edits)),
          editsArb.map((edits) => applyEdits(crlPem, edits)),
        ),
        (input) => onlyCertificateErrorsAsync(() => CrlRevocationList.load(input, [intermediate])),
      ),
      fuzzParams('crl', RUNS),
    );
  });
});
