import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeContentDigest, parseContentDigest, verifyContentDigest } from './content-digest';
import { computeLegacyDigest, parseLegacyDigest, verifyLegacyDigest } from './legacy-digest';

interface Rfc9530Vectors {
  readonly sampleInput: string;
  readonly sampleDigestValues: Record<string, { readonly value: string }>;
  readonly examples: readonly {
    readonly section: string;
    readonly content?: string;
    readonly field: string;
  }[];
  readonly legacyDigestRFC3230: { readonly example: string };
}

const vectors = JSON.parse(
  readFileSync(join(__dirname, '../../../test/fixtures/vectors/rfc9530.json'), 'utf8'),
) as Rfc9530Vectors;

const sample = Buffer.from(vectors.sampleInput, 'utf8');

function fieldValue(field: string): string {
  return field.slice(field.indexOf(':') + 1).trim();
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('RFC 9530 Content-Digest', () => {
  it('sample input is the 18 bytes without a newline', () => {
    expect(sample.length).toBe(18);
  });

  it.each(['sha-256', 'sha-512'] as const)('reproduces the %s sample digest', (algorithm) => {
    const expected = `${algorithm}=${vectors.sampleDigestValues[algorithm].value}`;
    expect(computeContentDigest(sample, [algorithm])).toBe(expected);
    expect(verifyContentDigest(expected, sample)).toEqual([algorithm]);
  });

  it.each(['md5', 'sha', 'unixsum', 'unixcksum', 'adler', 'crc32c'])(
    'refuses the deprecated %s as unsupported, not as a mismatch',
    (algorithm) => {
      const value = `${algorithm}=${vectors.sampleDigestValues[algorithm].value}`;
      expect(parseContentDigest(value)[0].algorithm).toBe(algorithm);
      expect(code(() => verifyContentDigest(value, sample))).toBe('DIGEST_ALGORITHM_UNSUPPORTED');
    },
  );

  it('reproduces the §2 and B.1 examples (content with a trailing LF)', () => {
    for (const example of vectors.examples.filter((e) => e.content !== undefined)) {
      const content = Buffer.from(example.content ?? '', 'utf8');
      const value = fieldValue(example.field);
      const [{ algorithm }] = parseContentDigest(value);
      expect(computeContentDigest(content, [algorithm as 'sha-256' | 'sha-512'])).toBe(value);
      expect(verifyContentDigest(value, content)).toEqual([algorithm]);
    }
  });

  it('the illustrative two-algorithm example: the bad sha-256 member is not hidden by the good sha-512', () => {
    const example = vectors.examples.find((e) => e.section === '2 (multiple algorithms)');
    const value = fieldValue(example?.field ?? '');
    const content = Buffer.from('{"hello": "world"}\n');
    expect(code(() => verifyContentDigest(value, content))).toBe('DIGEST_MISMATCH');
    expect(verifyContentDigest(value, content, { algorithms: ['sha-512'] })).toEqual(['sha-512']);
  });

  it('a changed body under the old digest is a mismatch', () => {
    const value = computeContentDigest(sample, ['sha-256', 'sha-512']);
    expect(verifyContentDigest(value, sample)).toEqual(['sha-256', 'sha-512']);
    expect(code(() => verifyContentDigest(value, Buffer.from('{"hello": "World"}')))).toBe('DIGEST_MISMATCH');
    expect(code(() => verifyContentDigest('sha-256=::', sample))).toBe('DIGEST_MISMATCH');
  });

  it('ignores unsupported members next to a supported one', () => {
    const value = `md5=${vectors.sampleDigestValues.md5.value}, ${computeContentDigest(sample)}`;
    expect(verifyContentDigest(value, sample)).toEqual(['sha-256']);
  });

  it.each([
    ['not a dictionary', 'sha-256=('],
    ['a token instead of bytes', 'sha-256=abc'],
    ['an inner list', 'sha-256=(:AA==:)'],
    ['a repeated algorithm', 'sha-256=:AA==:, sha-256=:AQ==:'],
    ['a repeated algorithm behind a token with ":"', 'sha-256=:AA==:;x=a:b, sha-256=:AQ==:;y=c:d'],
    ['unpadded base64', 'sha-256=:AA:'],
    ['non-zero trailing bits', 'sha-256=:AB==:'],
    ['an empty value', ''],
    ['a huge value', `sha-256=:${'A'.repeat(9000)}:`],
  ])('refuses %s as DIGEST_MALFORMED', (_what, value) => {
    expect(code(() => verifyContentDigest(value, sample))).toBe('DIGEST_MALFORMED');
  });
});

describe('RFC 3230 Digest (legacy)', () => {
  const example = fieldValue(vectors.legacyDigestRFC3230.example);

  it('verifies and reproduces the example', () => {
    expect(verifyLegacyDigest(example, sample)).toEqual(['sha-256']);
    expect(computeLegacyDigest(sample)).toBe(example);
  });

  it('treats the algorithm token case-insensitively and accepts SHA-512', () => {
    expect(verifyLegacyDigest(example.replace('SHA-256', 'sha-256'), sample)).toEqual(['sha-256']);
    const sha512 = computeLegacyDigest(sample, 'sha-512');
    expect(sha512.startsWith('SHA-512=')).toBe(true);
    expect(verifyLegacyDigest(`Sha-512=${sha512.slice(8)}`, sample)).toEqual(['sha-512']);
  });

  it('md5 only is unsupported; a changed body is a mismatch', () => {
    expect(code(() => verifyLegacyDigest('MD5=Sd/dVLAcvNLSq16eXua5uQ==', sample))).toBe(
      'DIGEST_ALGORITHM_UNSUPPORTED',
    );
    expect(code(() => verifyLegacyDigest(example, Buffer.from('other')))).toBe('DIGEST_MISMATCH');
  });

  it('parses several instances and keeps unknown ones as received', () => {
    expect(parseLegacyDigest(`UNIXsum=30637, ${example}`)).toEqual([
      { algorithm: 'unixsum', value: '30637' },
      { algorithm: 'sha-256', value: example.slice(8) },
    ]);
  });

  it.each([
    ['no "="', 'SHA-256'],
    ['an empty member', `${example},`],
    ['a repeated algorithm', `${example}, sha-256=${example.slice(8)}`],
    ['sloppy base64', 'SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE'],
    ['a bad token', 'SHA 256=abc'],
  ])('refuses %s as DIGEST_MALFORMED', (_what, value) => {
    expect(code(() => verifyLegacyDigest(value, sample))).toBe('DIGEST_MALFORMED');
  });
});
