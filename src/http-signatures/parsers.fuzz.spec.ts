import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { fuzzParams, printFuzzCounts } from '../../test/support/fuzz';
import {
  parseCavage,
  parseCavageAuthorization,
  parseCavageSignatureHeader,
} from './cavage/cavage-header.parser';
import { verifyCavageSignature } from './cavage/cavage-verifier';
import { buildCavageSigningString } from './cavage/signing-string';
import { parseContentDigest, verifyContentDigest } from './digest/content-digest';
import { parseLegacyDigest, verifyLegacyDigest } from './digest/legacy-digest';
import { HTTP_SIGNATURE_ERROR_CODES, HttpSignatureError } from './http-signature.error';
import type { HttpMessageView } from './http-message';
import { parseRawHttpMessage } from './raw-http-message';
import { buildSignatureBase } from './rfc9421/signature-base';
import { parseRfc9421, selectSignature } from './rfc9421/signature-input.parser';

/** Runs per property; `FUZZ_RUNS=100000 npx jest parsers.fuzz` for a long campaign. */
const RUNS = (() => {
  const runs = Number(process.env.FUZZ_RUNS ?? 2000);
  return Number.isInteger(runs) && runs > 0 ? runs : 2000;
})();

jest.setTimeout(Math.max(30_000, RUNS * 20));
afterAll(printFuzzCounts);

/** Calls fn; any throw must be an HttpSignatureError with a known code and a printable, bounded message. */
function onlyHttpSignatureErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof HttpSignatureError)) throw error;
    expect(HTTP_SIGNATURE_ERROR_CODES).toContain(error.code);
    expect(error.message).toMatch(/^[\x20-\x7e]*$/);
    expect(error.message.length).toBeLessThan(400);
  }
}

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'binary-ascii', maxLength: 200 }),
);

function fragments(parts: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.constantFrom(...parts), { maxLength: 40 }).map((a) => a.join('')) },
    { weight: 1, arbitrary: anyText },
  );
}

const SF_PARTS = [
  'sig1',
  'sig2',
  'a',
  '=',
  '(',
  ')',
  ' ',
  '  ',
  '\t',
  ',',
  ', ',
  ';',
  ':',
  '"',
  '\\',
  '%"',
  '%22',
  '?1',
  '?0',
  '1',
  '-1',
  '1.5',
  '@12',
  'tok',
  '*',
  '\n',
  '\r\n ',
  '\u00e9',
  '\u2028',
  '"@method"',
  '"@authority"',
  '"@path"',
  '"@query"',
  '"@query-param"',
  '"@status"',
  '"@target-uri"',
  '"@scheme"',
  '"@request-target"',
  '"@signature-params"',
  '"@foo"',
  '"date"',
  '"content-type"',
  '"x-dict"',
  '"x-list"',
  '"signature"',
  '"Date"',
  ';req',
  ';sf',
  ';bs',
  ';key="a"',
  ';key="zz"',
  ';name="x"',
  ';name="y"',
  ';tr',
  ';created=1',
  ';expires=2',
  ';keyid="k"',
  ';tag="t"',
  ';alg="ed25519"',
  ';nonce="n"',
  ';created="x"',
  ':dGVzdA==:',
  ':AA:',
  '::',
  'sig1=()',
  'sig1=:dGVzdA==:',
];

const CAVAGE_PARTS = [
  'keyId',
  'KEYID',
  'algorithm',
  'headers',
  'signature',
  'created',
  'expires',
  'x',
  '=',
  ' = ',
  ',',
  ', ',
  '"',
  '\\',
  '\\"',
  '"k"',
  '"hs2019"',
  '"rsa-sha256"',
  '"ecdsa-sha256"',
  '"(request-target) host date"',
  '"(created)"',
  '"(expires) digest"',
  '"Date"',
  '"dGVzdA=="',
  '"AA"',
  '1',
  '01',
  '1.5',
  '-1',
  '\t',
  '\u00e9',
  '\u0000',
  'Signature ',
  'signature ',
];

/** Mostly well-formed Cavage parameter lists. */
const structuredCavage = fc
  .tuple(
    fc.constantFrom('keyId="k"', 'keyId="k\\"q"', 'KEYID="j"', ''),
    fc.shuffledSubarray(
      [
        'algorithm="hs2019"',
        'algorithm="rsa-sha256"',
        'headers="(request-target) host date"',
        'headers="(created) (expires)"',
        'headers="x-list digest"',
        'headers="(foo)"',
        'created=1',
        'expires=2',
        'ext=tok',
        'x=y',
      ],
      { maxLength: 4 },
    ),
    fc.constantFrom('signature="dGVzdA=="', 'signature="dGVzdA"', ''),
  )
  .map(([keyId, params, signature]) => [keyId, ...params, signature].filter((p) => p !== '').join(','));

const DIGEST_PARTS = [
  'sha-256',
  'sha-512',
  'SHA-256',
  'Sha-512',
  'md5',
  'MD5',
  'unixsum',
  '=',
  ':',
  '::',
  'dGVzdA==',
  'AA',
  'X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=',
  ',',
  ', ',
  ' ',
  ';',
  ';x=1',
  '"',
  '(',
  ')',
  '?1',
  '\u00e9',
];

/** Mostly well-formed Signature-Input values, so that the base builder is reached too. */
const component = fc
  .tuple(
    fc.constantFrom(
      '"@method"',
      '"@authority"',
      '"@path"',
      '"@query"',
      '"@status"',
      '"@target-uri"',
      '"@scheme"',
      '"@request-target"',
      '"@query-param";name="x"',
      '"@query-param";name="y"',
      '"date"',
      '"content-type"',
      '"x-dict"',
      '"x-list"',
      '"x"',
      '"host"',
    ),
    fc.array(fc.constantFrom(';req', ';sf', ';bs', ';key="a"', ';key="zz"', ';tr'), { maxLength: 2 }),
  )
  .map(([name, params]) => name + params.join(''));
const innerList = fc
  .tuple(
    fc.array(component, { maxLength: 6 }),
    fc.array(fc.constantFrom(';created=1', ';expires=2', ';keyid="k"', ';tag="t"', ';nonce="n"', ';x=?0'), {
      maxLength: 4,
    }),
  )
  .map(([components, params]) => `(${components.join(' ')})${params.join('')}`);
const structuredInput = fc
  .uniqueArray(fc.tuple(fc.constantFrom('sig1', 'sig2', 'a'), innerList), {
    minLength: 1,
    maxLength: 3,
    selector: ([label]) => label,
  })
  .map((members) => members.map(([label, list]) => `${label}=${list}`).join(', '));
const structuredSignature = fc.constantFrom(
  'sig1=:dGVzdA==:',
  'sig1=:dGVzdA==:, sig2=:dGVzdA==:',
  'sig1=:dGVzdA==:, sig2=:dGVzdA==:, a=:dGVzdA==:',
  'a=:dGVzdA==:',
);

const headerName = fc.constantFrom(
  'Date',
  'Content-Type',
  'X-Dict',
  'x-list',
  'Host',
  'Digest',
  'X',
  ':authority',
);
const otherHeaders = fc
  .array(fc.tuple(headerName, fragments(SF_PARTS)), { maxLength: 6 })
  .map((pairs) => pairs.flat());

const messageView = fc.record({
  method: fc.option(fc.constantFrom('GET', 'POST', 'get', ''), { nil: undefined }),
  scheme: fc.option(fc.constantFrom('https', 'http', 'HTTPS', 'ftp'), { nil: undefined }),
  authority: fc.option(fc.oneof(fc.constantFrom('example.com', 'Example.com:443', '[::1]:80', ''), anyText), {
    nil: undefined,
  }),
  target: fc.option(
    fc.oneof(
      fc.constantFrom('/', '/p?x=1&x=2&y=a+b%zz%C3', '*', 'example.com:443', 'https://h/p?q'),
      anyText,
    ),
    { nil: undefined },
  ),
  status: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom(200, 503), fc.integer()) },
  ),
});

/** Fields that the generated components name, so that many bases can be built. */
const PRESENT = [
  'Date',
  'd',
  'Content-Type',
  'text/plain',
  'X-Dict',
  'a=1',
  'X-List',
  'a, b',
  'X',
  'y',
  'Host',
  'h',
];

function withHeaders(base: Omit<HttpMessageView, 'rawHeaders'>, ...headers: string[][]): HttpMessageView {
  return { ...base, rawHeaders: headers.flat() };
}

describe(`parsers never throw anything but HttpSignatureError (${RUNS} runs each)`, () => {
  it('parseRfc9421, selectSignature and buildSignatureBase', () => {
    let bases = 0;
    fc.assert(
      fc.property(
        messageView,
        fc.oneof(
          { weight: 3, arbitrary: structuredInput.map((v) => [v]) },
          {
            weight: 1,
            arbitrary: fc.array(fc.oneof(structuredInput, fragments(SF_PARTS)), {
              minLength: 1,
              maxLength: 3,
            }),
          },
        ),
        fc.array(fc.oneof(structuredSignature, fragments(SF_PARTS)), { maxLength: 2 }),
        otherHeaders,
        messageView,
        fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        (base, inputs, signatures, others, relatedBase, matchLabels) => {
          const labels = inputs.flatMap((v) => [...v.matchAll(/(?:^|, )([a-z0-9]+)=\(/g)].map((m) => m[1]));
          const sigs = matchLabels ? [labels.map((l) => `${l}=:dGVzdA==:`).join(', ')] : signatures;
          const view = withHeaders(
            base,
            inputs.flatMap((v) => ['Signature-Input', v]),
            sigs.flatMap((v) => ['Signature', v]),
            PRESENT,
            others,
          );
          const related = withHeaders(relatedBase, others);
          onlyHttpSignatureErrors(() => {
            const parsed = parseRfc9421(view);
            for (const entry of parsed) {
              onlyHttpSignatureErrors(() => buildSignatureBase(view, entry, related));
              onlyHttpSignatureErrors(() => {
                buildSignatureBase(view, entry);
                bases++;
              });
            }
            selectSignature(parsed, { tag: 't' });
          });
        },
      ),
      fuzzParams('rfc9421-structured-fields', RUNS),
    );
    // The generators must reach the base builder, not only the parser's first refusal.
    expect(bases).toBeGreaterThan(RUNS / 100);
  });

  const { publicKey } = generateKeyPairSync('ed25519');

  it('Cavage parsers, signing string and verifier', () => {
    let parsed = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          { weight: 3, arbitrary: structuredCavage },
          { weight: 1, arbitrary: fragments(CAVAGE_PARTS) },
        ),
        messageView,
        otherHeaders,
        (value, base, others) => {
          onlyHttpSignatureErrors(() => parseCavageSignatureHeader(value));
          onlyHttpSignatureErrors(() => parseCavageAuthorization(value));
          onlyHttpSignatureErrors(() => parseCavageAuthorization(`Signature ${value}`));
          const view = withHeaders(base, ['Authorization', `Signature ${value}`], others);
          onlyHttpSignatureErrors(() => {
            const found = parseCavage(view);
            if (found === undefined) return;
            parsed++;
            buildCavageSigningString(view, found.params, { defaultHeaders: ['date'] });
            expect(
              verifyCavageSignature(view, found.params, {
                key: publicKey,
                keyAlgorithm: 'ed25519',
                defaultHeaders: ['(created)'],
              }),
            ).toBe(false);
          });
        },
      ),
      fuzzParams('cavage-header', RUNS),
    );
    expect(parsed).toBeGreaterThan(RUNS / 100);
  });

  it('Content-Digest parser and verifier', () => {
    fc.assert(
      fc.property(fragments(DIGEST_PARTS), fc.uint8Array({ maxLength: 32 }), (value, body) => {
        onlyHttpSignatureErrors(() => parseContentDigest(value));
        onlyHttpSignatureErrors(() => verifyContentDigest(value, body));
      }),
      fuzzParams('content-digest', RUNS),
    );
  });

  it('legacy Digest parser and verifier', () => {
    fc.assert(
      fc.property(fragments(DIGEST_PARTS), fc.uint8Array({ maxLength: 32 }), (value, body) => {
        onlyHttpSignatureErrors(() => parseLegacyDigest(value));
        onlyHttpSignatureErrors(() => verifyLegacyDigest(value, body));
      }),
      fuzzParams('legacy-digest', RUNS),
    );
  });

  it('raw HTTP message parser', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        onlyHttpSignatureErrors(() => parseRawHttpMessage(`GET / HTTP/1.1\n${text}`));
        onlyHttpSignatureErrors(() => parseRawHttpMessage(text));
      }),
      fuzzParams('raw-http-message', RUNS),
    );
  });
});
