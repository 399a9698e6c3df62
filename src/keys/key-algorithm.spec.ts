import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import {
  defaultAlgorithmFor,
  keyAlgorithmFromJws,
  keyMatchesAlgorithm,
  signWithAlgorithm,
  verifyWithAlgorithm,
  isJwsAlgorithm,
  isRsaFamilyKey,
  jwsAlgorithmsOfKey,
  verifyJws,
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

  describe('JWS algorithms by key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const data = Buffer.from('signing input');
    const rsaKey = (algorithmDefaulted?: boolean) =>
      ({ algorithm: 'rsa-v1_5-sha256', algorithmDefaulted, keyObject: rsa.publicKey }) as const;

    it('an RSA key registered without an algorithm takes RS256/384/512, PS* only when allowed', () => {
      expect(isRsaFamilyKey(rsaKey(true))).toBe(true);
      expect(jwsAlgorithmsOfKey(rsaKey(true), false)).toEqual(['RS256', 'RS384', 'RS512']);
      expect(jwsAlgorithmsOfKey(rsaKey(true), true)).toEqual([
        'RS256',
        'RS384',
        'RS512',
        'PS256',
        'PS384',
        'PS512',
      ]);
    });

    it('a pinned key, or one from before the flag, takes exactly its algorithm', () => {
      expect(jwsAlgorithmsOfKey(rsaKey(false), true)).toEqual(['RS256']);
      expect(jwsAlgorithmsOfKey(rsaKey(undefined), true)).toEqual(['RS256']);
      const pss = {
        algorithm: 'rsa-pss-sha512',
        algorithmDefaulted: true,
        keyObject: rsa.publicKey,
      } as const;
      expect(jwsAlgorithmsOfKey(pss, true)).toEqual(['PS512']);
      const ec = {
        algorithm: 'ecdsa-p384-sha384',
        algorithmDefaulted: true,
        keyObject: p384.publicKey,
      } as const;
      expect(jwsAlgorithmsOfKey(ec, true)).toEqual(['ES384']);
    });

    it.each([
      ['RS384', 'sha384', {}],
      ['PS256', 'sha256', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
      ['PS384', 'sha384', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }],
    ] as const)('verifies %s, and not under another name', (jws, digest, padding) => {
      const signature = sign(digest, data, { key: rsa.privateKey, ...padding });
      expect(verifyJws(jws, rsa.publicKey, data, signature)).toBe(true);
      expect(verifyJws(jws === 'RS384' ? 'RS256' : 'RS384', rsa.publicKey, data, signature)).toBe(false);
      expect(verifyJws('ES384', rsa.publicKey, data, signature)).toBe(false);
    });

    it('knows no none, HS* or unknown names', () => {
      for (const alg of ['none', 'HS256', 'RS1', 'es256', '', undefined, 'constructor', '__proto__']) {
        expect(isJwsAlgorithm(alg)).toBe(false);
      }
    });
  });
});
