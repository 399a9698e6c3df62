import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import {
  defaultAlgorithmFor,
  keyAlgorithmFromJws,
  keyMatchesAlgorithm,
  signWithAlgorithm,
  verifyWithAlgorithm,
} from './key-algorithm';

describe('key-algorithm', () => {
  it.each([
    ['ed25519', generateKeyPairSync('ed25519')],
    ['ecdsa-p256-sha256', generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['ecdsa-p384-sha384', generateKeyPairSync('ec', { namedCurve: 'P-384' })],
    ['rsa-v1_5-sha256', generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['rsa-pss-sha512', generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ] as const)('%s signs, verifies, and refuses a flipped bit', (alg, pair) => {
    if (alg !== 'rsa-pss-sha512') expect(defaultAlgorithmFor(pair.publicKey)).toBe(alg);
    const data = Buffer.from('hello');
    const sig = signWithAlgorithm(alg, pair.privateKey, data);
    expect(verifyWithAlgorithm(alg, pair.publicKey, data, sig)).toBe(true);
    sig[0] ^= 1;
    expect(verifyWithAlgorithm(alg, pair.publicKey, data, sig)).toBe(false);
  });

  it('refuses a key of another type or curve', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(keyMatchesAlgorithm(p256, 'ecdsa-p384-sha384')).toBe(false);
    expect(keyMatchesAlgorithm(p256, 'ed25519')).toBe(false);
    expect(verifyWithAlgorithm('ed25519', p256, Buffer.from('x'), Buffer.alloc(64))).toBe(false);
  });

  it('maps JWS names and knows no symmetric or none algorithm', () => {
    expect(keyAlgorithmFromJws('EdDSA')).toBe('ed25519');
    expect(keyAlgorithmFromJws('RS512')).toBe('rsa-v1_5-sha512');
    expect(keyAlgorithmFromJws('HS256')).toBeUndefined();
    expect(keyAlgorithmFromJws('none')).toBeUndefined();
    expect(decodeProtectedHeader('eyJhbGciOiJub25lIn0.e30.').alg).toBe('none');
  });
});

describe('rsa-pss-sha512', () => {
  it('is RSASSA-PSS with SHA-512 and a 64-byte salt, as RFC 9421 §3.3.1 says', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const data = Buffer.from('base');
    const sig = signWithAlgorithm('rsa-pss-sha512', privateKey, data);
    const { constants, verify } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    expect(
      verify(
        'sha512',
        data,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
        sig,
      ),
    ).toBe(true);
    expect(verifyWithAlgorithm('rsa-v1_5-sha256', publicKey, data, sig)).toBe(false);
  });
});
