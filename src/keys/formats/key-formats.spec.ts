import { execFileSync } from 'node:child_process';
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
  verify,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { fuzzParams, printFuzzCounts } from '../../../test/support/fuzz';
import { calculateJwkThumbprint } from 'jose';
import { signWithAlgorithm, verifyWithAlgorithm, type KeyAlgorithm } from '../key-algorithm';
import { KEY_FORMAT_ERROR_CODES, KeyFormatError, type KeyFormatErrorCode } from './key-format.error';
import { generateKeyPair } from './key-generation';
import { jwkThumbprint } from './jwk-public-key';
import { OpenSshKeyError } from './openssh-key.error';
import { loadPrivateKey, publicKeyFromPrivate } from './private-key-loader';
import { parsePublicKey } from './public-key-parser';
import { type ParsedPublicKey, type PublicJwkMembers } from './public-key.types';

// ---------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------

const PAIRS = {
  ed25519: generateKeyPairSync('ed25519'),
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  rsa2048: generateKeyPairSync('rsa', { modulusLength: 2048 }),
};
type PairName = keyof typeof PAIRS;
const RSA1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });

const EXPECTED: Record<
  PairName,
  { algorithm: KeyAlgorithm; keyType: string; curve?: string; bits?: number }
> = {
  ed25519: { algorithm: 'ed25519', keyType: 'ed25519' },
  p256: { algorithm: 'ecdsa-p256-sha256', keyType: 'ec', curve: 'P-256' },
  p384: { algorithm: 'ecdsa-p384-sha384', keyType: 'ec', curve: 'P-384' },
  rsa2048: { algorithm: 'rsa-v1_5-sha256', keyType: 'rsa', bits: 2048 },
};

const spkiPem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const publicJwk = (key: KeyObject): Record<string, unknown> => {
  const { kty, crv, x, y, n, e } = key.export({ format: 'jwk' });
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined));
};

// Independent OpenSSH wire-format encoder (RFC 4253 §6.6 / RFC 5656 §3.1).
const sshString = (value: Buffer | string) => {
  const bytes = Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};
const sshMpint = (m: Buffer) => sshString(m[0] & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m);
function sshBlob(key: KeyObject): { type: string; blob: Buffer } {
  const jwk = key.export({ format: 'jwk' });
  const b = (v: string | undefined) => Buffer.from(v ?? '', 'base64url');
  if (jwk.kty === 'OKP')
    return { type: 'ssh-ed25519', blob: Buffer.concat([sshString('ssh-ed25519'), sshString(b(jwk.x))]) };
  if (jwk.kty === 'RSA')
    return {
      type: 'ssh-rsa',
      blob: Buffer.concat([sshString('ssh-rsa'), sshMpint(b(jwk.e)), sshMpint(b(jwk.n))]),
    };
  const type = jwk.crv === 'P-256' ? 'ecdsa-sha2-nistp256' : 'ecdsa-sha2-nistp384';
  const curve = jwk.crv === 'P-256' ? 'nistp256' : 'nistp384';
  const point = Buffer.concat([Buffer.from([4]), b(jwk.x), b(jwk.y)]);
  return { type, blob: Buffer.concat([sshString(type), sshString(curve), sshString(point)]) };
}
const sshLine = (key: KeyObject, comment = 'user@host') => {
  const { type, blob } = sshBlob(key);
  return `${type} ${blob.toString('base64')} ${comment}`;
};

/** SPKI DER with a compressed EC point (same key, different bytes). */
function compressedSpki(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  const jwk = key.export({ format: 'jwk' });
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  const point = Buffer.concat([Buffer.from([2 | (y[y.length - 1] & 1)]), x]);
  const algId = der.subarray(2, 2 + 2 + der[3]);
  const bitString = Buffer.concat([Buffer.from([0x03, point.length + 1, 0]), point]);
  const body = Buffer.concat([algId, bitString]);
  const out = Buffer.concat([Buffer.from([0x30, body.length]), body]);
  return pem('PUBLIC KEY', out);
}

function refusal(fn: () => unknown): KeyFormatError {
  try {
    fn();
  } catch (error) {
    if (error instanceof KeyFormatError) return error;
    throw new Error(`expected a KeyFormatError, got ${String(error)}`);
  }
  throw new Error('expected a refusal, but the call succeeded');
}
const codeOf = (fn: () => unknown): KeyFormatErrorCode => refusal(fn).code;

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

// ---------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------

describe('parsePublicKey round trips', () => {
  function inputsFor(name: PairName): Array<[string, string | Record<string, unknown>]> {
    const { publicKey } = PAIRS[name];
    const inputs: Array<[string, string | Record<string, unknown>]> = [
      ['SPKI PEM', spkiPem(publicKey)],
      ['SPKI PEM with CRLF and indentation', `\n  ${spkiPem(publicKey).replace(/\n/g, '\r\n')}  \n`],
      ['SPKI PEM on one line', spkiPem(publicKey).replace(/\n/g, ' ')],
      ['SPKI PEM with BOM', `\uFEFF${spkiPem(publicKey)}`],
      ['OpenSSH line', sshLine(publicKey)],
      ['OpenSSH line without comment', sshLine(publicKey, '').trim()],
      ['JWK object', publicJwk(publicKey)],
      ['JWK JSON string', JSON.stringify(publicJwk(publicKey))],
      [
        'JWK with kid, use, key_ops, x5t',
        { ...publicJwk(publicKey), kid: 'k1', use: 'sig', key_ops: ['verify'], x5t: 'abc' },
      ],
    ];
    if (name === 'rsa2048') {
      inputs.push(['PKCS#1 RSA PEM', publicKey.export({ type: 'pkcs1', format: 'pem' }).toString()]);
    }
    if (name === 'p256' || name === 'p384')
      inputs.push(['SPKI PEM, compressed point', compressedSpki(publicKey)]);
    return inputs;
  }

  describe.each(Object.keys(PAIRS) as PairName[])('%s', (name) => {
    const { publicKey, privateKey } = PAIRS[name];
    const reference = spkiPem(publicKey);

    it.each(inputsFor(name))('%s gives the canonical form', async (_format, input) => {
      const parsed = parsePublicKey(input);
      expect(parsed.spkiPem).toBe(reference);
      expect(parsed.algorithm).toBe(EXPECTED[name].algorithm);
      expect(parsed.keyType).toBe(EXPECTED[name].keyType);
      expect(parsed.curve).toBe(EXPECTED[name].curve);
      expect(parsed.bits).toBe(EXPECTED[name].bits);
      expect(parsed.pemSha256).toBe(createHash('sha256').update(reference).digest('hex'));
      expect(parsed.pemSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(parsed.thumbprint).toBe(await calculateJwkThumbprint(publicJwk(publicKey) as never, 'sha256'));
      expect(parsed.jwk).toEqual({ ...publicJwk(publicKey), alg: expect.any(String) });
      expect(Object.keys(parsed.jwk).sort()).toEqual([...Object.keys(publicJwk(publicKey)), 'alg'].sort());
      expect(parsed.keyObject.type).toBe('public');
      expect(spkiPem(parsed.keyObject)).toBe(reference);
      // The pinned algorithm verifies signatures of the matching private key.
      const data = Buffer.from('round trip');
      const signature = signWithAlgorithm(parsed.algorithm, privateKey, data);
      expect(verifyWithAlgorithm(parsed.algorithm, parsed.keyObject, data, signature)).toBe(true);
    });

    it('every format gives the same thumbprint, pemSha256 and spkiPem', () => {
      const results = inputsFor(name).map(([, input]) => parsePublicKey(input));
      for (const r of results) {
        expect([r.thumbprint, r.pemSha256, r.spkiPem]).toEqual([
          results[0].thumbprint,
          results[0].pemSha256,
          results[0].spkiPem,
        ]);
      }
    });

    it('its own outputs parse back to the same key', () => {
      const parsed = parsePublicKey(sshLine(publicKey));
      for (const again of [
        parsePublicKey(parsed.spkiPem),
        parsePublicKey(parsed.jwk),
        parsePublicKey(JSON.stringify(parsed.jwk)),
      ]) {
        expect(again.thumbprint).toBe(parsed.thumbprint);
        expect(again.algorithm).toBe(parsed.algorithm);
      }
    });
  });

  it('pins the requested algorithm, or the JWK alg', () => {
    const rsa = PAIRS.rsa2048.publicKey;
    expect(parsePublicKey(spkiPem(rsa), { algorithm: 'rsa-pss-sha512' }).algorithm).toBe('rsa-pss-sha512');
    expect(parsePublicKey(spkiPem(rsa), { algorithm: 'rsa-pss-sha512' }).jwk.alg).toBe('PS512');
    expect(parsePublicKey({ ...publicJwk(rsa), alg: 'RS512' }).algorithm).toBe('rsa-v1_5-sha512');
    expect(
      parsePublicKey({ ...publicJwk(rsa), alg: 'PS512' }, { algorithm: 'rsa-pss-sha512' }).algorithm,
    ).toBe('rsa-pss-sha512');
    const ed = publicJwk(PAIRS.ed25519.publicKey);
    expect(parsePublicKey({ ...ed, alg: 'Ed25519' }).jwk.alg).toBe('EdDSA');
    expect(parsePublicKey({ ...ed, alg: 'EdDSA' }, { algorithm: 'ed25519' }).algorithm).toBe('ed25519');
  });

  it('results are frozen', () => {
    const parsed = parsePublicKey(spkiPem(PAIRS.ed25519.publicKey));
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(parsed.jwk)).toBe(true);
  });
});

describe('jwkThumbprint (RFC 7638)', () => {
  it('matches the example of RFC 7638 §3.1', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn6' +
      '4tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n9' +
      '1CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    expect(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB' })).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    // The same key through parsePublicKey, with the example's alg and kid.
    const parsed = parsePublicKey({ kty: 'RSA', n, e: 'AQAB', alg: 'RS256', kid: '2011-04-29' });
    expect(parsed.thumbprint).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('equals jose calculateJwkThumbprint for random keys', async () => {
    for (let i = 0; i < 5; i++) {
      for (const key of [
        generateKeyPairSync('ed25519').publicKey,
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
        generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
      ]) {
        const jwk = publicJwk(key) as PublicJwkMembers;
        expect(jwkThumbprint(jwk)).toBe(await calculateJwkThumbprint(jwk as never, 'sha256'));
      }
    }
    const rsa = publicJwk(PAIRS.rsa2048.publicKey) as PublicJwkMembers;
    expect(jwkThumbprint(rsa)).toBe(await calculateJwkThumbprint(rsa as never, 'sha256'));
  });
});

// ---------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------

describe('parsePublicKey refusals', () => {
  const ed = publicJwk(PAIRS.ed25519.publicKey);
  const p256 = publicJwk(PAIRS.p256.publicKey);
  const rsa = publicJwk(PAIRS.rsa2048.publicKey);
  const edSsh = sshBlob(PAIRS.ed25519.publicKey);
  const edPem = spkiPem(PAIRS.ed25519.publicKey);
  const rsaN = Buffer.from(String(rsa.n), 'base64url');
  const withExponent = (e: bigint) => {
    const hex = e.toString(16);
    return {
      kty: 'RSA',
      n: rsa.n,
      e: Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url'),
    };
  };

  const cases: Array<[string, () => unknown, KeyFormatErrorCode]> = [
    // KEY_IS_PRIVATE
    [
      'a PKCS#8 private key',
      () => PAIRS.ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      'KEY_IS_PRIVATE',
    ],
    [
      'a PKCS#1 private key',
      () => PAIRS.rsa2048.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      'KEY_IS_PRIVATE',
    ],
    [
      'a SEC1 private key',
      () => PAIRS.p256.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
      'KEY_IS_PRIVATE',
    ],
    [
      'an encrypted PKCS#8 key',
      () =>
        PAIRS.p256.privateKey
          .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
          .toString(),
      'KEY_IS_PRIVATE',
    ],
    [
      'an OpenSSH private key',
      () =>
        '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n',
      'KEY_IS_PRIVATE',
    ],
    [
      'a public key followed by a private key',
      () => edPem + PAIRS.ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      'KEY_IS_PRIVATE',
    ],
    ['a PuTTY private key', () => 'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n', 'KEY_IS_PRIVATE'],
    ['a JWK with d', () => PAIRS.ed25519.privateKey.export({ format: 'jwk' }), 'KEY_IS_PRIVATE'],
    ['an RSA JWK with p and q only', () => ({ ...rsa, p: 'AQAB', q: 'AQAB' }), 'KEY_IS_PRIVATE'],
    ['a JWK with oth', () => ({ ...rsa, oth: [] }), 'KEY_IS_PRIVATE'],
    [
      'a JWK JSON string with d',
      () => JSON.stringify(PAIRS.p256.privateKey.export({ format: 'jwk' })),
      'KEY_IS_PRIVATE',
    ],
    ['an oct JWK', () => ({ kty: 'oct', k: 'c2VjcmV0' }), 'KEY_IS_PRIVATE'],
    ['a JWK with k', () => ({ ...ed, k: 'c2VjcmV0' }), 'KEY_IS_PRIVATE'],
    [
      'a JWK Set with a private key',
      () => ({ keys: [PAIRS.ed25519.privateKey.export({ format: 'jwk' })] }),
      'KEY_IS_PRIVATE',
    ],
    // KEY_TOO_WEAK
    ['a 1024-bit RSA SPKI key', () => spkiPem(RSA1024.publicKey), 'KEY_TOO_WEAK'],
    ['a 1024-bit RSA OpenSSH key', () => sshLine(RSA1024.publicKey), 'KEY_TOO_WEAK'],
    ['a 1024-bit RSA JWK', () => publicJwk(RSA1024.publicKey), 'KEY_TOO_WEAK'],
    ['RSA exponent 1', () => withExponent(1n), 'KEY_TOO_WEAK'],
    ['RSA exponent 65536 (even)', () => withExponent(65536n), 'KEY_TOO_WEAK'],
    ['RSA exponent 2^32 + 1', () => withExponent(2n ** 32n + 1n), 'KEY_TOO_WEAK'],
    [
      'RSA exponent as long as the modulus',
      () => withExponent(BigInt(`0x${rsaN.toString('hex')}`) - 2n),
      'KEY_TOO_WEAK',
    ],
    [
      'an Ed25519 small-order point (identity)',
      () => ({ ...ed, x: Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]).toString('base64url') }),
      'KEY_TOO_WEAK',
    ],
    [
      'an Ed25519 small-order point (order 8)',
      () => ({
        ...ed,
        x: Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex').toString(
          'base64url',
        ),
      }),
      'KEY_TOO_WEAK',
    ],
    [
      'an Ed25519 small-order point (order 4)',
      () => ({ ...ed, x: Buffer.alloc(32).toString('base64url') }),
      'KEY_TOO_WEAK',
    ],
    // KEY_TYPE_UNSUPPORTED
    [
      'a secp256k1 SPKI key',
      () => spkiPem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey),
      'KEY_TYPE_UNSUPPORTED',
    ],
    [
      'a P-521 SPKI key',
      () => spkiPem(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey),
      'KEY_TYPE_UNSUPPORTED',
    ],
    [
      'a secp256k1 JWK',
      () => publicJwk(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey),
      'KEY_TYPE_UNSUPPORTED',
    ],
    [
      'a P-521 JWK',
      () => publicJwk(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey),
      'KEY_TYPE_UNSUPPORTED',
    ],
    ['an Ed448 SPKI key', () => spkiPem(generateKeyPairSync('ed448').publicKey), 'KEY_TYPE_UNSUPPORTED'],
    ['an Ed448 JWK', () => publicJwk(generateKeyPairSync('ed448').publicKey), 'KEY_TYPE_UNSUPPORTED'],
    ['an X25519 SPKI key', () => spkiPem(generateKeyPairSync('x25519').publicKey), 'KEY_TYPE_UNSUPPORTED'],
    ['an X25519 JWK', () => publicJwk(generateKeyPairSync('x25519').publicKey), 'KEY_TYPE_UNSUPPORTED'],
    [
      'a DSA SPKI key',
      () => spkiPem(generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).publicKey),
      'KEY_TYPE_UNSUPPORTED',
    ],
    [
      'an RSA-PSS-restricted SPKI key',
      () => spkiPem(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey),
      'KEY_TYPE_UNSUPPORTED',
    ],
    ['an ssh-dss line', () => `ssh-dss ${sshString('ssh-dss').toString('base64')}`, 'KEY_TYPE_UNSUPPORTED'],
    [
      'an RSA modulus over 8192 bits (verification cost)',
      () => {
        const n = randomBytes(1026);
        n[0] |= 0x80;
        n[n.length - 1] |= 1;
        return { kty: 'RSA', n: n.toString('base64url'), e: 'AQAB' };
      },
      'KEY_TYPE_UNSUPPORTED',
    ],
    // KEY_FORMAT_INVALID
    ['two PEM blocks', () => edPem + spkiPem(PAIRS.p256.publicKey), 'KEY_FORMAT_INVALID'],
    ['the same PEM block twice', () => edPem + edPem, 'KEY_FORMAT_INVALID'],
    ['text before the PEM block', () => `My key:\n${edPem}`, 'KEY_FORMAT_INVALID'],
    ['text after the PEM block', () => `${edPem}thanks`, 'KEY_FORMAT_INVALID'],
    ['a PEM block without END', () => edPem.split('-----END')[0], 'KEY_FORMAT_INVALID'],
    [
      'mismatched BEGIN/END labels',
      () => edPem.replace('END PUBLIC KEY', 'END RSA PUBLIC KEY'),
      'KEY_FORMAT_INVALID',
    ],
    ['a PEM with a header', () => edPem.replace('-----\n', '-----\nComment: hi\n\n'), 'KEY_FORMAT_INVALID'],
    ['a PEM with junk in the body', () => edPem.replace('MC', 'M!C'), 'KEY_FORMAT_INVALID'],
    ['a PEM with literal \\n', () => edPem.replace(/\n/g, '\\n'), 'KEY_FORMAT_INVALID'],
    [
      'an SPKI with trailing DER bytes',
      () =>
        pem(
          'PUBLIC KEY',
          Buffer.concat([
            PAIRS.ed25519.publicKey.export({ type: 'spki', format: 'der' }),
            Buffer.from([0, 0]),
          ]),
        ),
      'KEY_FORMAT_INVALID',
    ],
    [
      'a truncated SPKI',
      () =>
        pem('PUBLIC KEY', PAIRS.ed25519.publicKey.export({ type: 'spki', format: 'der' }).subarray(0, 40)),
      'KEY_FORMAT_INVALID',
    ],
    ['garbage DER in a PEM', () => pem('PUBLIC KEY', Buffer.from([0x30, 3, 1, 2, 3])), 'KEY_FORMAT_INVALID'],
    [
      'a PKCS#1 body under a SPKI label',
      () => pem('PUBLIC KEY', PAIRS.rsa2048.publicKey.export({ type: 'pkcs1', format: 'der' })),
      'KEY_FORMAT_INVALID',
    ],
    ['a certificate', () => pem('CERTIFICATE', Buffer.from([0x30, 0])), 'KEY_FORMAT_INVALID'],
    [
      'an RFC 4716 SSH2 public key',
      () => '---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----',
      'KEY_FORMAT_INVALID',
    ],
    [
      'a truncated SSH blob',
      () => `ssh-ed25519 ${edSsh.blob.subarray(0, 40).toString('base64')}`,
      'KEY_FORMAT_INVALID',
    ],
    [
      'an SSH blob with trailing bytes',
      () => `ssh-ed25519 ${Buffer.concat([edSsh.blob, Buffer.from([1, 2, 3])]).toString('base64')}`,
      'KEY_FORMAT_INVALID',
    ],
    [
      'a mismatched inner SSH type name',
      () => `ssh-rsa ${edSsh.blob.toString('base64')}`,
      'KEY_FORMAT_INVALID',
    ],
    ['an invalid EC point in a JWK', () => ({ ...p256, y: p256.x }), 'KEY_FORMAT_INVALID'],
    [
      'an invalid Ed25519 point',
      () => ({ ...ed, x: Buffer.from('02'.padEnd(64, '0'), 'hex').toString('base64url') }), // y = 2 has no x
      'KEY_FORMAT_INVALID',
    ],
    [
      'a non-canonical Ed25519 y >= p',
      () => ({ ...ed, x: Buffer.from(`${'ee'}${'ff'.repeat(30)}7f`, 'hex').toString('base64url') }),
      'KEY_FORMAT_INVALID',
    ],
    [
      'an Ed25519 "negative zero" x',
      () => ({ ...ed, x: Buffer.from(`01${'00'.repeat(30)}80`, 'hex').toString('base64url') }),
      'KEY_FORMAT_INVALID',
    ],
    [
      'an even RSA modulus',
      () => ({ ...rsa, n: Buffer.concat([rsaN.subarray(0, -1), Buffer.from([2])]).toString('base64url') }),
      'KEY_FORMAT_INVALID',
    ],
    ['an unknown kty', () => ({ kty: 'XYZ', x: 'AA' }), 'KEY_FORMAT_INVALID'],
    ['an unknown crv', () => ({ ...p256, crv: 'P-257' }), 'KEY_FORMAT_INVALID'],
    ['an OKP JWK with an EC curve', () => ({ ...ed, crv: 'P-256' }), 'KEY_FORMAT_INVALID'],
    ['a JWK without kty', () => ({ x: ed.x }), 'KEY_FORMAT_INVALID'],
    [
      'a JWK kty inherited from the prototype',
      () => Object.assign(Object.create({ kty: 'OKP', crv: 'Ed25519' }), { x: ed.x }),
      'KEY_FORMAT_INVALID',
    ],
    ['a JWK with padded base64url', () => ({ ...p256, x: `${p256.x}=` }), 'KEY_FORMAT_INVALID'],
    [
      'a JWK with standard base64 characters',
      () => ({ ...rsa, n: `+${String(rsa.n).slice(1)}` }),
      'KEY_FORMAT_INVALID',
    ],
    ['a JWK with a short x', () => ({ ...p256, x: String(p256.x).slice(0, 42) }), 'KEY_FORMAT_INVALID'],
    ['a JWK with a non-string x', () => ({ ...ed, x: 5 }), 'KEY_FORMAT_INVALID'],
    [
      'an RSA JWK with a leading zero byte',
      () => ({ ...rsa, n: Buffer.concat([Buffer.from([0]), rsaN]).toString('base64url') }),
      'KEY_FORMAT_INVALID',
    ],
    ['a JWK Set', () => ({ keys: [ed] }), 'KEY_FORMAT_INVALID'],
    ['invalid JSON', () => '{"kty": "OKP",', 'KEY_FORMAT_INVALID'],
    ['a JSON array', () => JSON.stringify([ed]), 'KEY_FORMAT_INVALID'],
    ['a JSON string literal', () => '"ssh-ed25519 AAAA"', 'KEY_FORMAT_INVALID'],
    ['an empty string', () => '   \n', 'KEY_FORMAT_INVALID'],
    ['random words', () => 'hello world', 'KEY_FORMAT_INVALID'],
    [
      'bare base64 DER',
      () => PAIRS.ed25519.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      'KEY_FORMAT_INVALID',
    ],
    ['input over 16 KB', () => edPem + ' '.repeat(16 * 1024), 'KEY_FORMAT_INVALID'],
    ['a JWK over 16 KB', () => ({ ...ed, kid: 'k'.repeat(17 * 1024) }), 'KEY_FORMAT_INVALID'],
    [
      'a cyclic object',
      () => {
        const o: Record<string, unknown> = { ...ed };
        o.self = o;
        return o;
      },
      'KEY_FORMAT_INVALID',
    ],
    // KEY_ALGORITHM_MISMATCH
    [
      'ES384 requested for a P-256 key',
      () => [spkiPem(PAIRS.p256.publicKey), { algorithm: 'ecdsa-p384-sha384' }],
      'KEY_ALGORITHM_MISMATCH',
    ],
    [
      'EdDSA requested for an RSA key',
      () => [sshLine(PAIRS.rsa2048.publicKey), { algorithm: 'ed25519' }],
      'KEY_ALGORITHM_MISMATCH',
    ],
    [
      'RSA requested for an Ed25519 key',
      () => [edPem, { algorithm: 'rsa-pss-sha512' }],
      'KEY_ALGORITHM_MISMATCH',
    ],
    ['a JWK alg ES384 on a P-256 key', () => ({ ...p256, alg: 'ES384' }), 'KEY_ALGORITHM_MISMATCH'],
    ['a JWK alg EdDSA on an RSA key', () => ({ ...rsa, alg: 'EdDSA' }), 'KEY_ALGORITHM_MISMATCH'],
    ['a JWK alg HS256', () => ({ ...rsa, alg: 'HS256' }), 'KEY_ALGORITHM_MISMATCH'],
    ['a JWK alg none', () => ({ ...ed, alg: 'none' }), 'KEY_ALGORITHM_MISMATCH'],
    [
      'a JWK alg RS384 (not an accepted algorithm)',
      () => ({ ...rsa, alg: 'RS384' }),
      'KEY_ALGORITHM_MISMATCH',
    ],
    [
      'a JWK alg that disagrees with options.algorithm',
      () => [{ ...rsa, alg: 'RS256' }, { algorithm: 'rsa-v1_5-sha512' }],
      'KEY_ALGORITHM_MISMATCH',
    ],
    ['a JWK alg that is not a string', () => ({ ...ed, alg: 1 }), 'KEY_ALGORITHM_MISMATCH'],
    ['a JWK with use enc', () => ({ ...rsa, use: 'enc' }), 'KEY_ALGORITHM_MISMATCH'],
    ['a JWK with key_ops without verify', () => ({ ...ed, key_ops: ['sign'] }), 'KEY_ALGORITHM_MISMATCH'],
    ['a JWK with key_ops not an array', () => ({ ...ed, key_ops: 'verify' }), 'KEY_ALGORITHM_MISMATCH'],
    ['an unknown options.algorithm', () => [edPem, { algorithm: 'ES256' }], 'KEY_ALGORITHM_MISMATCH'],
  ];

  it.each(cases)('refuses %s', (_what, make, code) => {
    const made = make();
    const [input, options] =
      Array.isArray(made) && made.length === 2 && typeof made[1] === 'object' && !Array.isArray(made[0])
        ? made
        : [made, undefined];
    expect(codeOf(() => parsePublicKey(input as never, options as never))).toBe(code);
  });

  it('covers every error code', () => {
    expect(new Set(cases.map(([, , code]) => code))).toEqual(new Set(KEY_FORMAT_ERROR_CODES));
  });

  it('says how to fix a weak RSA key', () => {
    const error = refusal(() => parsePublicKey(spkiPem(RSA1024.publicKey)));
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('KeyFormatError');
    expect(error.message).toContain('RSA keys must be at least 2048 bits; this one has 1024.');
    expect(error.message).toContain('keygen --type rsa');
  });

  it('never echoes private key material', () => {
    const jwk = PAIRS.p256.privateKey.export({ format: 'jwk' });
    const pemText = PAIRS.p256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const input of [
      JSON.stringify({ d: jwk.d, ...jwk }),
      { d: jwk.d, ...jwk },
      pemText,
      `{"d":"${jwk.d}",`,
    ]) {
      const error = refusal(() => parsePublicKey(input));
      expect(error.message).not.toContain(String(jwk.d).slice(0, 6));
      expect(error.message).not.toContain(pemText.split('\n')[1].slice(0, 6));
      expect(JSON.stringify(error.cause ?? null)).not.toContain(String(jwk.d).slice(0, 6));
    }
  });

  it('quotes only a short JSON-escaped prefix of unrecognised input', () => {
    const error = refusal(() =>
      parsePublicKey('"quoted" \u0000 and a very long secret-looking tail ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
    );
    expect(error.message).toContain('"\\"quoted\\" \\u0000 a"…');
    expect(error.message).not.toContain('tail');
  });

  it('wraps anything thrown by exotic objects', () => {
    const throwing = new Proxy(
      {},
      {
        ownKeys() {
          throw new TypeError('boom');
        },
        get() {
          throw new TypeError('boom');
        },
        getOwnPropertyDescriptor() {
          throw new TypeError('boom');
        },
      },
    );
    for (const input of [
      throwing,
      null,
      undefined,
      42,
      [],
      ['kty'],
      Buffer.from(edPem),
      PAIRS.ed25519.publicKey,
      { toJSON: () => undefined },
      { kty: 'OKP', crv: 'Ed25519', x: 1n },
    ]) {
      expect(codeOf(() => parsePublicKey(input as never))).toBe('KEY_FORMAT_INVALID');
    }
    expect(codeOf(() => parsePublicKey(edPem, throwing as never))).toBe('KEY_FORMAT_INVALID');
    expect(codeOf(() => parsePublicKey(edPem, { minRsaBits: Number.NaN }))).toBe('KEY_FORMAT_INVALID');
  });

  it('honours minRsaBits below 2048 only under NODE_ENV=test', () => {
    expect(parsePublicKey(spkiPem(RSA1024.publicKey), { minRsaBits: 1024 }).bits).toBe(1024);
    expect(codeOf(() => parsePublicKey(spkiPem(PAIRS.rsa2048.publicKey), { minRsaBits: 3072 }))).toBe(
      'KEY_TOO_WEAK',
    );
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      expect(
        refusal(() => parsePublicKey(spkiPem(RSA1024.publicKey), { minRsaBits: 1024 })).message,
      ).toContain('2048');
    } finally {
      process.env.NODE_ENV = saved;
    }
  });

  it('refuses pathological 16 KB inputs quickly (no super-linear regexes)', () => {
    const n = 16 * 1024 - 64;
    const inputs = [
      `-----BEGIN ${' '.repeat(n)}X`,
      `-----BEGIN ${'A '.repeat(n / 2)}X`,
      `ssh-rsa${' '.repeat(n)}x`,
      `ssh-rsa ${'\t '.repeat(n / 2)}AAAA`,
      `-----BEGIN PUBLIC KEY-----\n${'A \n'.repeat(n / 3 - 20)}-----END PUBLIC KEY-----`,
      '{"a":'.repeat(n / 5),
      '-'.repeat(n),
    ];
    const started = Date.now();
    for (const input of inputs) expect(codeOf(() => parsePublicKey(input))).toBe('KEY_FORMAT_INVALID');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('accepts odd RSA exponents 3 and 2^32 - 1', () => {
    expect(parsePublicKey(withExponent(3n)).bits).toBe(2048);
    expect(parsePublicKey(withExponent(2n ** 32n - 1n)).bits).toBe(2048);
  });
});

// ---------------------------------------------------------------------------------
// Private keys, generation
// ---------------------------------------------------------------------------------

describe('loadPrivateKey', () => {
  it.each([
    ['PKCS#8 Ed25519', PAIRS.ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' })],
    ['PKCS#8 P-384', PAIRS.p384.privateKey.export({ type: 'pkcs8', format: 'pem' })],
    ['PKCS#1 RSA', PAIRS.rsa2048.privateKey.export({ type: 'pkcs1', format: 'pem' })],
    ['SEC1 P-256', PAIRS.p256.privateKey.export({ type: 'sec1', format: 'pem' })],
  ])('loads %s from a string and a Buffer', (_what, exported) => {
    for (const input of [exported.toString(), Buffer.from(exported), `\n${exported.toString()}\n`]) {
      const key = loadPrivateKey(input);
      expect(key.type).toBe('private');
      const pub = spkiPem(publicKeyFromPrivate(key));
      expect(parsePublicKey(pub).spkiPem).toBe(pub);
    }
  });

  it('loads encrypted PKCS#8 with the passphrase, and refuses it without or with a wrong one', () => {
    const encrypted = PAIRS.p256.privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'correct horse' })
      .toString();
    expect(spkiPem(publicKeyFromPrivate(loadPrivateKey(encrypted, 'correct horse')))).toBe(
      spkiPem(PAIRS.p256.publicKey),
    );
    expect(refusal(() => loadPrivateKey(encrypted)).message).toContain('passphrase');
    expect(refusal(() => loadPrivateKey(encrypted, 'wrong')).message).toContain('passphrase is wrong');
  });

  it.each<[string, () => unknown, KeyFormatErrorCode]>([
    ['a public key', () => spkiPem(PAIRS.ed25519.publicKey), 'KEY_FORMAT_INVALID'],
    [
      'two keys',
      () =>
        `${PAIRS.ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' })}${PAIRS.ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' })}`,
      'KEY_FORMAT_INVALID',
    ],
    [
      'legacy PEM encryption',
      () =>
        PAIRS.rsa2048.privateKey.export({
          type: 'pkcs1',
          format: 'pem',
          cipher: 'aes-256-cbc',
          passphrase: 'pw',
        }),
      'KEY_FORMAT_INVALID',
    ],
    ['garbage', () => 'not a key', 'KEY_FORMAT_INVALID'],
    ['a number', () => 42, 'KEY_FORMAT_INVALID'],
    ['damaged DER', () => pem('PRIVATE KEY', Buffer.from([0x30, 2, 5, 0])), 'KEY_FORMAT_INVALID'],
    [
      'an Ed448 key',
      () => generateKeyPairSync('ed448').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      'KEY_TYPE_UNSUPPORTED',
    ],
    [
      'a secp256k1 key',
      () =>
        generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }),
      'KEY_TYPE_UNSUPPORTED',
    ],
    [
      'an X25519 key',
      () => generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      'KEY_TYPE_UNSUPPORTED',
    ],
  ])('refuses %s', (_what, make, code) => {
    expect(codeOf(() => loadPrivateKey(make() as never))).toBe(code);
  });

  it('hands an OpenSSH private key to the OpenSSH reader, which names what is wrong', () => {
    const broken = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----';
    expect(() => loadPrivateKey(broken)).toThrow(OpenSshKeyError);
    expect(() => loadPrivateKey(Buffer.from(broken))).toThrow(
      expect.objectContaining({ code: 'OPENSSH_KEY_INVALID' }),
    );
  });

  it('publicKeyFromPrivate refuses a public key', () => {
    expect(codeOf(() => publicKeyFromPrivate(PAIRS.ed25519.publicKey))).toBe('KEY_FORMAT_INVALID');
    expect(codeOf(() => publicKeyFromPrivate('x' as never))).toBe('KEY_FORMAT_INVALID');
  });
});

describe('generateKeyPair', () => {
  it.each([
    ['ed25519', 'ed25519'],
    ['p256', 'ecdsa-p256-sha256'],
    ['p384', 'ecdsa-p384-sha384'],
    ['rsa', 'rsa-v1_5-sha256'],
  ] as const)('%s: PKCS#8 + SPKI that belong together', (type, algorithm) => {
    const pair = generateKeyPair(type, type === 'rsa' ? 2048 : undefined);
    expect(pair.algorithm).toBe(algorithm);
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const parsed = parsePublicKey(pair.publicKeyPem);
    expect(parsed.algorithm).toBe(algorithm);
    expect(parsed.spkiPem).toBe(pair.publicKeyPem);
    const privateKey = loadPrivateKey(pair.privateKeyPem);
    expect(spkiPem(publicKeyFromPrivate(privateKey))).toBe(pair.publicKeyPem);
    const data = Buffer.from('x');
    expect(
      verifyWithAlgorithm(algorithm, parsed.keyObject, data, signWithAlgorithm(algorithm, privateKey, data)),
    ).toBe(true);
  });

  it('defaults RSA to 3072 bits and refuses small or huge sizes', () => {
    expect(parsePublicKey(generateKeyPair('rsa').publicKeyPem).bits).toBe(3072);
    expect(codeOf(() => generateKeyPair('rsa', 1024))).toBe('KEY_TOO_WEAK');
    expect(codeOf(() => generateKeyPair('rsa', 32768))).toBe('KEY_TYPE_UNSUPPORTED');
    expect(codeOf(() => generateKeyPair('dsa' as never))).toBe('KEY_TYPE_UNSUPPORTED');
  });
});

// ---------------------------------------------------------------------------------
// Python cross-check: pemSha256 is the kid of asymmetric_jwt_auth
// ---------------------------------------------------------------------------------

const PYTHON = '/usr/bin/python3';
const PY_SCRIPT = `
import hashlib, json, sys
from cryptography.hazmat.primitives import serialization
out = []
for text in json.load(sys.stdin):
    data = text.encode()
    key = serialization.load_pem_public_key(data) if text.startswith('-----') else serialization.load_ssh_public_key(data)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    out.append({"pem": pem.decode(), "sha256": hashlib.sha256(pem).hexdigest()})
print(json.dumps(out))
`;
function pythonAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import cryptography.hazmat.primitives.serialization'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const havePython = pythonAvailable();
if (!havePython) {
  console.warn(
    `\n*** SKIPPING Python cross-check: ${PYTHON} with the "cryptography" package is not available. ***\n`,
  );
}

(havePython ? describe : describe.skip)('against Python cryptography (asymmetric_jwt_auth kid)', () => {
  it('pemSha256 equals hashlib.sha256(public_bytes(PEM, SubjectPublicKeyInfo)) for SSH and PEM inputs', () => {
    const inputs: string[] = [];
    const expected: ParsedPublicKey[] = [];
    for (const { publicKey } of Object.values(PAIRS)) {
      for (const text of [sshLine(publicKey), spkiPem(publicKey)]) {
        inputs.push(text);
        expected.push(parsePublicKey(text));
      }
    }
    const results = JSON.parse(
      execFileSync(PYTHON, ['-c', PY_SCRIPT], { input: JSON.stringify(inputs), encoding: 'utf8' }),
    ) as Array<{
      pem: string;
      sha256: string;
    }>;
    expect(results.map((r) => r.sha256)).toEqual(expected.map((e) => e.pemSha256));
    expect(results.map((r) => r.pem)).toEqual(expected.map((e) => e.spkiPem));
  });

  it('a compressed-point SPKI is canonicalised to the uncompressed form (Python would keep it compressed)', () => {
    const compressed = compressedSpki(PAIRS.p256.publicKey);
    const [python] = JSON.parse(
      execFileSync(PYTHON, ['-c', PY_SCRIPT], { input: JSON.stringify([compressed]), encoding: 'utf8' }),
    ) as Array<{ pem: string; sha256: string }>;
    expect(python.pem).toBe(compressed);
    // Ours equals the kid of the same key as any Python client generates it (uncompressed).
    expect(parsePublicKey(compressed).spkiPem).toBe(spkiPem(PAIRS.p256.publicKey));
  });
});

// ---------------------------------------------------------------------------------
// Fuzzing: nothing but KeyFormatError ever escapes
// ---------------------------------------------------------------------------------

const FUZZ_RUNS = Math.max(1, Number.parseInt(process.env.FUZZ_RUNS ?? '', 10) || 1000);
/** About 1 ms per run at worst; keep Jest's timer out of the way of large FUZZ_RUNS. */
const FUZZ_TIMEOUT = Math.max(30_000, FUZZ_RUNS * 5);
afterAll(printFuzzCounts);

describe(`fuzzing parsePublicKey (${FUZZ_RUNS} runs per property)`, () => {
  const validStrings = [
    ...Object.values(PAIRS).flatMap(({ publicKey }) => [
      spkiPem(publicKey),
      sshLine(publicKey),
      JSON.stringify({ ...publicJwk(publicKey), use: 'sig' }),
    ]),
    PAIRS.rsa2048.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    compressedSpki(PAIRS.p384.publicKey),
  ];
  const blobs = Object.values(PAIRS).map(({ publicKey }) => sshBlob(publicKey));
  const ders = Object.values(PAIRS).map(({ publicKey }) => publicKey.export({ type: 'spki', format: 'der' }));
  const jwks = Object.values(PAIRS).map(({ publicKey }) => publicJwk(publicKey));

  function check(input: unknown, options?: unknown): void {
    let parsed: ParsedPublicKey;
    try {
      parsed = parsePublicKey(input as never, options as never);
    } catch (error) {
      if (!(error instanceof KeyFormatError)) throw error;
      expect(KEY_FORMAT_ERROR_CODES).toContain(error.code);
      expect(error.message.length).toBeLessThan(600);
      return;
    }
    // Whatever is accepted is self-consistent and canonical.
    expect(parsed.pemSha256).toBe(createHash('sha256').update(parsed.spkiPem).digest('hex'));
    expect(parsePublicKey(parsed.spkiPem, { algorithm: parsed.algorithm }).thumbprint).toBe(
      parsed.thumbprint,
    );
    expect(parsePublicKey(parsed.jwk).spkiPem).toBe(parsed.spkiPem);
    expect(spkiPem(createPublicKey(parsed.spkiPem))).toBe(parsed.spkiPem);
  }

  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fc.string({ maxLength: 3 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      text: fc.string({ unit: 'binary', maxLength: 8 }),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('duplicate' as const) }),
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;
  function mutate(text: string, mutations: Mutation[]): string {
    let s = text;
    for (const m of mutations) {
      const at = s.length === 0 ? 0 : m.kind === 'duplicate' ? 0 : m.at % (s.length + 1);
      if (m.kind === 'replace') s = s.slice(0, at) + m.text + s.slice(at + m.text.length);
      else if (m.kind === 'delete') s = s.slice(0, at) + s.slice(at + m.length);
      else if (m.kind === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
      else if (m.kind === 'truncate') s = s.slice(0, at);
      else s = s + s;
    }
    return s;
  }
  const byteEdit = fc.record({
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
    op: fc.constantFrom('set', 'insert', 'delete', 'xor'),
  });
  function mutateBytes(bytes: Buffer, edits: Array<{ at: number; value: number; op: string }>): Buffer {
    let b = Buffer.from(bytes);
    for (const e of edits) {
      const at = e.at % (b.length + 1);
      if (e.op === 'set' && at < b.length) b[at] = e.value;
      else if (e.op === 'xor' && at < b.length) b[at] ^= 1 << (e.value % 8);
      else if (e.op === 'insert')
        b = Buffer.concat([b.subarray(0, at), Buffer.from([e.value]), b.subarray(at)]);
      else b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
    }
    return b;
  }

  it(
    'random strings',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
            fc.base64String(),
          ),
          (s) => check(s),
        ),
        fuzzParams('key-formats', FUZZ_RUNS),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'random values and objects',
    () => {
      fc.assert(
        fc.property(
          fc.anything({
            withBigInt: true,
            withBoxedValues: true,
            withMap: true,
            withSet: true,
            withTypedArray: true,
            withNullPrototype: true,
            withObjectString: true,
          }),
          fc.option(fc.anything()),
          (value, options) => check(value, options),
        ),
        fuzzParams('key-formats', FUZZ_RUNS),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'JWK-shaped objects',
    () => {
      const member = fc.oneof(
        fc.string(),
        fc.base64String().map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')),
        fc.anything(),
      );
      fc.assert(
        fc.property(
          fc.constantFrom(...jwks),
          fc.dictionary(
            fc.constantFrom(
              'kty',
              'crv',
              'x',
              'y',
              'n',
              'e',
              'alg',
              'use',
              'key_ops',
              'd',
              'k',
              '__proto__',
              'keys',
            ),
            member,
            { maxKeys: 3 },
          ),
          fc.boolean(),
          (base, overrides, asJson) => {
            const jwk = { ...base, ...overrides };
            check(asJson ? JSON.stringify(jwk) : jwk);
          },
        ),
        fuzzParams('key-formats', FUZZ_RUNS),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'mutated valid inputs',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...validStrings),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          (text, mutations) => check(mutate(text, mutations)),
        ),
        fuzzParams('key-formats', FUZZ_RUNS),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'mutated OpenSSH blobs and SPKI DER',
    () => {
      fc.assert(
        fc.property(
          fc.nat(),
          fc.array(byteEdit, { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          (index, edits, ssh) => {
            if (ssh) {
              const { type, blob } = blobs[index % blobs.length];
              check(`${type} ${mutateBytes(blob, edits).toString('base64')} comment`);
            } else {
              check(pem('PUBLIC KEY', mutateBytes(ders[index % ders.length], edits)));
            }
          },
        ),
        fuzzParams('key-formats', FUZZ_RUNS),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'random bytes under PEM labels and in SSH lines',
    () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 600 }),
          fc.constantFrom('PUBLIC KEY', 'RSA PUBLIC KEY', 'ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256'),
          (bytes, label) => {
            const der = Buffer.from(bytes);
            check(label.includes(' ') ? pem(label, der) : `${label} ${der.toString('base64')}`);
          },
        ),
        fuzzParams('key-formats', FUZZ_RUNS),
      );
    },
    FUZZ_TIMEOUT,
  );

  it(
    'loadPrivateKey only throws KeyFormatError (OpenSshKeyError for OpenSSH text)',
    () => {
      const privatePems = [
        PAIRS.ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        PAIRS.p256.privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
      ];
      fc.assert(
        fc.property(
          fc.constantFrom(...privatePems),
          fc.array(mutation, { maxLength: 3 }),
          fc.option(fc.string()),
          (text, mutations, passphrase) => {
            try {
              loadPrivateKey(mutate(text, mutations), passphrase ?? undefined);
            } catch (error) {
              if (!(error instanceof KeyFormatError) && !(error instanceof OpenSshKeyError)) throw error;
            }
          },
        ),
        fuzzParams('private-key', FUZZ_RUNS),
      );
    },
    FUZZ_TIMEOUT,
  );
});

describe('the Ed25519 point check (why it is not left to node:crypto)', () => {
  const identity = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]);
  const spkiOf = (x: Buffer) =>
    createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), x]),
      format: 'der',
      type: 'spki',
    });

  it('an identity-point key would verify a forged signature in node:crypto', () => {
    // R = identity, S = 0 satisfies [S]B = R + [k]A for A = identity, whatever the message.
    const forged = Buffer.concat([identity, Buffer.alloc(32)]);
    expect(verify(null, Buffer.from('any message'), spkiOf(identity), forged)).toBe(true);
    expect(() => parsePublicKey({ kty: 'OKP', crv: 'Ed25519', x: identity.toString('base64url') })).toThrow(
      expect.objectContaining({ code: 'KEY_TOO_WEAK' }),
    );
  });

  it('node:crypto takes a non-canonical y = p, which parsePublicKey refuses', () => {
    const p = Buffer.from((2n ** 255n - 19n).toString(16).padStart(64, '0'), 'hex').reverse();
    expect(spkiOf(p).asymmetricKeyType).toBe('ed25519');
    expect(() => parsePublicKey({ kty: 'OKP', crv: 'Ed25519', x: p.toString('base64url') })).toThrow(
      expect.objectContaining({ code: 'KEY_FORMAT_INVALID' }),
    );
  });

  it('every real key passes', () => {
    for (let i = 0; i < 50; i++) {
      const x = String(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x);
      expect(parsePublicKey({ kty: 'OKP', crv: 'Ed25519', x }).keyType).toBe('ed25519');
    }
  });
});
