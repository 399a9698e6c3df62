import { generateKeyPairSync } from 'node:crypto';
import { HttpSignatureError, type HttpSignatureErrorCode } from '../http-signature.error';
import type { HttpMessageView } from '../http-message';
import { cavageAlgorithmName, resolveCavageAlgorithm } from './cavage-algorithm';
import { parseCavage, parseCavageAuthorization, parseCavageSignatureHeader } from './cavage-header.parser';
import { cavageSigner, signCavage } from './cavage-signer';
import { verifyCavageSignature } from './cavage-verifier';
import { ecdsaDerToP1363, ecdsaP1363ToDer } from './ecdsa-signature';
import { buildCavageSigningString } from './signing-string';

const SIG = 'dGVzdA==';

function expectCode(code: HttpSignatureErrorCode, fn: () => unknown): HttpSignatureError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpSignatureError);
    expect((error as HttpSignatureError).code).toBe(code);
    return error as HttpSignatureError;
  }
  throw new Error(`expected ${code}`);
}

const request: HttpMessageView = {
  method: 'GET',
  scheme: 'https',
  authority: 'example.org',
  target: '/inbox?page=1',
  rawHeaders: ['Host', 'example.org', 'Date', 'Tue, 07 Jun 2014 20:51:35 GMT', 'Accept', 'a', 'Accept', 'b'],
};

describe('Cavage signature parameters', () => {
  it('parses every parameter, ignores unknown ones, unescapes quoted-pairs', () => {
    expect(
      parseCavageSignatureHeader(
        `keyId="https://x.example/a#main-key",algorithm="HS2019",headers="(request-target) host date",` +
          `created=1402170695,expires=1402170699,ext=token,other="q\\"s",signature="${SIG}"`,
      ),
    ).toEqual({
      keyId: 'https://x.example/a#main-key',
      algorithm: 'hs2019',
      headers: ['(request-target)', 'host', 'date'],
      signature: Buffer.from('test'),
      created: 1402170695,
      expires: 1402170699,
    });
    expect(parseCavageSignatureHeader(` keyId = "a\\\\b" ,\tsignature="${SIG}" `).keyId).toBe('a\\b');
  });

  it('accepts the Signature scheme case-insensitively in Authorization', () => {
    expect(parseCavageAuthorization(`signature  keyId="k",signature="${SIG}"`).keyId).toBe('k');
    expectCode('MALFORMED_SIGNATURE', () => parseCavageAuthorization(`Bearer keyId="k",signature="${SIG}"`));
    expectCode('MALFORMED_SIGNATURE', () => parseCavageAuthorization(`Signature`));
  });

  it.each([
    ['an unquoted keyId', `keyId=k,signature="${SIG}"`],
    ['an unquoted signature', `keyId="k",signature=dGVzdA`],
    ['a quoted created', `keyId="k",created="1",signature="${SIG}"`],
    ['a decimal created', `keyId="k",created=1.5,signature="${SIG}"`],
    ['a created with a leading zero', `keyId="k",created=01,signature="${SIG}"`],
    ['a negative expires', `keyId="k",expires=-1,signature="${SIG}"`],
    ['a duplicated parameter', `keyId="k",keyId="j",signature="${SIG}"`],
    ['a duplicated parameter in another case', `keyId="k",KEYID="j",signature="${SIG}"`],
    ['a duplicated unknown parameter', `keyId="k",x=1,x=2,signature="${SIG}"`],
    ['a missing keyId', `signature="${SIG}"`],
    ['an empty keyId', `keyId="",signature="${SIG}"`],
    ['a missing signature', `keyId="k"`],
    ['an empty signature', `keyId="k",signature=""`],
    ['non-base64', `keyId="k",signature="dGV*zdA=="`],
    ['unpadded base64', `keyId="k",signature="dGVzdA"`],
    ['base64 with whitespace', `keyId="k",signature="dGVz dA=="`],
    ['an unterminated string', `keyId="k,signature="${SIG}"`],
    ['a bad escape', `keyId="k\\\u0001",signature="${SIG}"`],
    ['a control character', `keyId="k\u0000",signature="${SIG}"`],
    ['a non-ASCII character', `keyId="k\u00e9",signature="${SIG}"`],
    ['a trailing comma', `keyId="k",signature="${SIG}",`],
    ['an empty member', `keyId="k",,signature="${SIG}"`],
    ['a missing "="', `keyId "k",signature="${SIG}"`],
    ['a missing value', `keyId=,signature="${SIG}"`],
    ['garbage after a value', `keyId="k"x,signature="${SIG}"`],
    ['an empty value', ``],
    ['an empty headers list', `keyId="k",headers="",signature="${SIG}"`],
    ['a double space in headers', `keyId="k",headers="host  date",signature="${SIG}"`],
    ['an uppercase header name', `keyId="k",headers="Date",signature="${SIG}"`],
    ['a repeated header name', `keyId="k",headers="date date",signature="${SIG}"`],
    [
      'too many header names',
      `keyId="k",headers="${Array.from({ length: 33 }, (_, i) => `h${i}`).join(' ')}",signature="${SIG}"`,
    ],
    ['an empty algorithm', `keyId="k",algorithm="",signature="${SIG}"`],
    ['a value over 8 KB', `keyId="${'k'.repeat(9000)}",signature="${SIG}"`],
  ])('refuses %s', (_what, value) => {
    const error = expectCode('MALFORMED_SIGNATURE', () => parseCavageSignatureHeader(value));
    expect(error.message).toMatch(/^[\x20-\x7e]*$/);
    expect(error.message.length).toBeLessThan(200);
  });

  it('quotes attacker input in messages instead of echoing it', () => {
    const error = expectCode('MALFORMED_SIGNATURE', () => parseCavageSignatureHeader('ke\u2028y\u0000="x"'));
    expect(error.message).not.toContain('\u2028');
    const long = expectCode('MALFORMED_SIGNATURE', () => parseCavageSignatureHeader(`${'a'.repeat(500)}`));
    expect(long.message.length).toBeLessThan(200);
  });
});

describe('parseCavage (from a message)', () => {
  const value = `keyId="k",signature="${SIG}"`;
  const withHeaders = (...headers: string[]): HttpMessageView => ({
    ...request,
    rawHeaders: [...request.rawHeaders, ...headers],
  });

  it('finds Signature or Authorization: Signature, or nothing', () => {
    expect(parseCavage(request)).toBeUndefined();
    expect(parseCavage(withHeaders('Authorization', 'Bearer abc'))).toBeUndefined();
    expect(parseCavage(withHeaders('Signature', value))?.source).toBe('signature');
    expect(parseCavage(withHeaders('Authorization', `Signature ${value}`))?.source).toBe('authorization');
  });

  it('leaves a Signature field with Signature-Input to RFC 9421', () => {
    expect(
      parseCavage(withHeaders('Signature', 'sig1=:dGVzdA==:', 'Signature-Input', 'sig1=()')),
    ).toBeUndefined();
  });

  it('refuses both sources, and repeated fields', () => {
    expectCode('MALFORMED_SIGNATURE', () =>
      parseCavage(withHeaders('Signature', value, 'Authorization', `Signature ${value}`)),
    );
    expectCode('MALFORMED_SIGNATURE', () => parseCavage(withHeaders('Signature', value, 'Signature', value)));
    expectCode('MALFORMED_SIGNATURE', () =>
      parseCavage(withHeaders('Authorization', `Signature ${value}`, 'Authorization', 'Basic x')),
    );
  });
});

describe('Cavage signing string', () => {
  const options = { defaultHeaders: ['date'] };

  it('joins repeated headers and lowercases the method of (request-target)', () => {
    expect(
      buildCavageSigningString(request, { headers: ['(request-target)', 'host', 'accept'] }, options),
    ).toBe('(request-target): get /inbox?page=1\nhost: example.org\naccept: a, b');
  });

  it('uses the given default headers when the parameter is absent', () => {
    expect(buildCavageSigningString(request, {}, options)).toBe('date: Tue, 07 Jun 2014 20:51:35 GMT');
    expect(buildCavageSigningString(request, { created: 5 }, { defaultHeaders: ['(created)'] })).toBe(
      '(created): 5',
    );
  });

  it('falls back to the authority for host without a Host field (HTTP/2)', () => {
    const h2 = { ...request, rawHeaders: [':authority', 'example.org', 'date', 'x'] };
    expect(buildCavageSigningString(h2, { headers: ['host'] }, options)).toBe('host: example.org');
  });

  it.each([
    ['SIGNATURE_COMPONENT_MISSING', { headers: ['digest'] }],
    ['SIGNATURE_COMPONENT_MISSING', { headers: ['(created)'] }],
    ['SIGNATURE_COMPONENT_MISSING', { headers: ['(expires)'], algorithm: 'hs2019' }],
    ['SIGNATURE_COMPONENT_UNSUPPORTED', { headers: ['(created)'], created: 1, algorithm: 'rsa-sha256' }],
    ['SIGNATURE_COMPONENT_UNSUPPORTED', { headers: ['(expires)'], expires: 1, algorithm: 'ecdsa-sha256' }],
    ['SIGNATURE_COMPONENT_UNSUPPORTED', { headers: ['(created)'], created: 1, algorithm: 'hmac-sha256' }],
    ['SIGNATURE_COMPONENT_UNSUPPORTED', { headers: ['(foo)'] }],
    ['MALFORMED_SIGNATURE', { headers: [] }],
    ['MALFORMED_SIGNATURE', { headers: ['Date'] }],
  ] as const)('%s for %j', (code, params) => {
    expectCode(code, () => buildCavageSigningString(request, params, options));
  });

  it('refuses (request-target) without method or target and values with line breaks', () => {
    expectCode('SIGNATURE_COMPONENT_MISSING', () =>
      buildCavageSigningString({ rawHeaders: [] }, { headers: ['(request-target)'] }, options),
    );
    expectCode('SIGNATURE_COMPONENT_INVALID', () =>
      buildCavageSigningString({ rawHeaders: ['X', 'a\nb'] }, { headers: ['x'] }, options),
    );
  });
});

describe('Cavage algorithms', () => {
  it('maps names to the key algorithm, hs2019 and no name defer to the key', () => {
    expect(resolveCavageAlgorithm('rsa-sha256', 'rsa-v1_5-sha256')).toBe('rsa-v1_5-sha256');
    expect(resolveCavageAlgorithm('RSA-SHA512', 'rsa-v1_5-sha512')).toBe('rsa-v1_5-sha512');
    expect(resolveCavageAlgorithm('ecdsa-sha256', 'ecdsa-p256-sha256')).toBe('ecdsa-p256-sha256');
    expect(resolveCavageAlgorithm('hs2019', 'ed25519')).toBe('ed25519');
    expect(resolveCavageAlgorithm(undefined, 'rsa-pss-sha512')).toBe('rsa-pss-sha512');
    expect(cavageAlgorithmName('rsa-v1_5-sha256')).toBe('rsa-sha256');
    expect(cavageAlgorithmName('ed25519')).toBe('hs2019');
    expect(cavageAlgorithmName('ecdsa-p384-sha384')).toBe('hs2019');
  });

  it('takes the names signers in use send for Ed25519 and P-384', () => {
    expect(resolveCavageAlgorithm('ed25519-sha512', 'ed25519')).toBe('ed25519');
    expect(resolveCavageAlgorithm('Ed25519', 'ed25519')).toBe('ed25519');
    expect(resolveCavageAlgorithm('ecdsa-sha384', 'ecdsa-p384-sha384')).toBe('ecdsa-p384-sha384');
  });

  it('lets the name pick the PKCS#1 v1.5 digest only for an RSA key registered without an algorithm', () => {
    expect(resolveCavageAlgorithm('rsa-sha512', 'rsa-v1_5-sha256', true)).toBe('rsa-v1_5-sha512');
    expect(resolveCavageAlgorithm('rsa-sha256', 'rsa-v1_5-sha256', true)).toBe('rsa-v1_5-sha256');
    expect(resolveCavageAlgorithm('hs2019', 'rsa-v1_5-sha256', true)).toBe('rsa-v1_5-sha256');
    expectCode('SIGNATURE_ALGORITHM_UNSUPPORTED', () =>
      resolveCavageAlgorithm('rsa-sha512', 'rsa-v1_5-sha256'),
    );
    expectCode('SIGNATURE_ALGORITHM_UNSUPPORTED', () =>
      resolveCavageAlgorithm('ecdsa-sha256', 'rsa-v1_5-sha256', true),
    );
    expectCode('SIGNATURE_ALGORITHM_UNSUPPORTED', () =>
      resolveCavageAlgorithm('rsa-sha256', 'rsa-pss-sha512', true),
    );
  });

  it.each([
    ['rsa-sha256', 'ed25519'],
    ['ecdsa-sha256', 'ecdsa-p384-sha384'],
    ['ecdsa-sha384', 'ecdsa-p256-sha256'],
    ['ed25519-sha512', 'rsa-v1_5-sha256'],
    ['ed25519', 'ecdsa-p256-sha256'],
    ['ecdsa-sha384', 'ed25519'],
    ['hmac-sha256', 'rsa-v1_5-sha256'],
    ['rsa-sha1', 'rsa-v1_5-sha256'],
    ['toString', 'rsa-v1_5-sha256'],
  ] as const)('refuses %s with a %s key', (name, key) => {
    expectCode('SIGNATURE_ALGORITHM_UNSUPPORTED', () => resolveCavageAlgorithm(name, key));
  });
});

describe('Cavage ECDSA signatures', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const options = { key: publicKey, keyAlgorithm: 'ecdsa-p256-sha256', defaultHeaders: ['date'] } as const;

  it.each(['der', 'ieee-p1363'] as const)('verifies a %s signature', (encoding) => {
    const signed = signCavage(request, {
      keyId: 'k',
      algorithm: 'ecdsa-sha256',
      headers: ['(request-target)', 'host', 'date'],
      sign: cavageSigner('ecdsa-p256-sha256', privateKey, encoding),
    });
    const params = parseCavageSignatureHeader(signed.signature);
    expect(params.signature[0] === 0x30 || encoding === 'ieee-p1363').toBe(true);
    expect(verifyCavageSignature(request, params, options)).toBe(true);
    expect(verifyCavageSignature({ ...request, target: '/other' }, params, options)).toBe(false);
  });

  it('converts between DER and r||s and refuses non-minimal DER', () => {
    const raw = Buffer.alloc(64, 0);
    raw[31] = 1;
    raw[32] = 0x80;
    const der = ecdsaP1363ToDer(raw);
    expect(der.toString('hex')).toBe(`302602010102210080${'00'.repeat(31)}`);
    expect(ecdsaDerToP1363(der, 32)).toEqual(raw);
    expect(ecdsaDerToP1363(Buffer.from('30080202000102020080', 'hex'), 32)).toBeUndefined();
    expect(ecdsaDerToP1363(Buffer.from('30060201ff020101', 'hex'), 32)).toBeUndefined();
    expect(ecdsaDerToP1363(Buffer.from('3006020101020101ff', 'hex'), 32)).toBeUndefined();
    expect(ecdsaDerToP1363(Buffer.alloc(0), 32)).toBeUndefined();
  });
});
