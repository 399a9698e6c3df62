import { constants, createHmac, KeyObject, sign, timingSafeEqual, verify } from 'node:crypto';

/**
 * The signature algorithms a registered public key can be pinned to. The name is
 * the RFC 9421 registry name where one exists. A key gets exactly one of these at
 * registration time; every strategy verifies with the stored algorithm and never
 * with one the client names.
 */
export const KEY_ALGORITHMS = [
  'ed25519',
  'ecdsa-p256-sha256',
  'ecdsa-p384-sha384',
  'rsa-v1_5-sha256',
  'rsa-v1_5-sha512',
  'rsa-pss-sha512',
] as const;

export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Shared-secret algorithm of RFC 9421; never used with a registered public key. */
export type SecretAlgorithm = 'hmac-sha256';

interface AlgorithmSpec {
  /** The JWS `alg` that this key algorithm corresponds to. */
  readonly jws: string;
  /** Digest name for node:crypto sign/verify (null for Ed25519). */
  readonly digest: string | null;
  /** Key type as reported by KeyObject.asymmetricKeyType. */
  readonly keyType: 'ed25519' | 'ec' | 'rsa';
  /** Named curve for EC keys. */
  readonly curve?: 'prime256v1' | 'secp384r1';
  readonly pss?: boolean;
}

const SPECS: Record<KeyAlgorithm, AlgorithmSpec> = {
  ed25519: { jws: 'EdDSA', digest: null, keyType: 'ed25519' },
  'ecdsa-p256-sha256': { jws: 'ES256', digest: 'sha256', keyType: 'ec', curve: 'prime256v1' },
  'ecdsa-p384-sha384': { jws: 'ES384', digest: 'sha384', keyType: 'ec', curve: 'secp384r1' },
  'rsa-v1_5-sha256': { jws: 'RS256', digest: 'sha256', keyType: 'rsa' },
  'rsa-v1_5-sha512': { jws: 'RS512', digest: 'sha512', keyType: 'rsa' },
  'rsa-pss-sha512': { jws: 'PS512', digest: 'sha512', keyType: 'rsa', pss: true },
};

export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SPECS, value);
}

/** The JWS `alg` for a key algorithm (EdDSA, ES256, ES384, RS256, RS512, PS512). */
export function jwsAlgorithmOf(algorithm: KeyAlgorithm): string {
  return SPECS[algorithm].jws;
}

/** The key algorithm for a JWS `alg`, or undefined when it is not an accepted asymmetric one. */
export function keyAlgorithmFromJws(jws: string): KeyAlgorithm | undefined {
  if (jws === 'Ed25519') return 'ed25519';
  return KEY_ALGORITHMS.find((a) => SPECS[a].jws === jws);
}

/** True when the key object is of the type and curve that the algorithm needs. */
export function keyMatchesAlgorithm(key: KeyObject, algorithm: KeyAlgorithm): boolean {
  const spec = SPECS[algorithm];
  const type = key.asymmetricKeyType;
  if (spec.keyType === 'rsa') return type === 'rsa' || (spec.pss === true && type === 'rsa-pss');
  if (type !== spec.keyType) return false;
  return spec.curve === undefined || key.asymmetricKeyDetails?.namedCurve === spec.curve;
}

/** The default algorithm for a public key: the only one for Ed25519/EC, PKCS#1 v1.5 SHA-256 for RSA. */
export function defaultAlgorithmFor(key: KeyObject): KeyAlgorithm | undefined {
  return KEY_ALGORITHMS.find((a) => keyMatchesAlgorithm(key, a));
}

/**
 * Verifies a raw signature (ECDSA as r||s, the JWS / RFC 9421 form) with the
 * algorithm pinned to the key. Returns false, never throws, on a bad signature
 * or a signature of the wrong length.
 */
export function verifyWithAlgorithm(
  algorithm: KeyAlgorithm,
  key: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const spec = SPECS[algorithm];
  try {
    if (spec.keyType === 'ec') {
      return verify(spec.digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    if (spec.pss) {
      return verify(
        spec.digest,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
        signature,
      );
    }
    return verify(spec.digest, data, key, signature);
  } catch {
    return false;
  }
}

/** Signs with a private key and a key algorithm (ECDSA output as r||s). */
export function signWithAlgorithm(algorithm: KeyAlgorithm, key: KeyObject, data: Uint8Array): Buffer {
  const spec = SPECS[algorithm];
  if (spec.keyType === 'ec') return sign(spec.digest, data, { key, dsaEncoding: 'ieee-p1363' });
  if (spec.pss)
    return sign(spec.digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 });
  return sign(spec.digest, data, key);
}

/** HMAC-SHA256 signature over data. */
export function hmacSha256(secret: Uint8Array, data: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/** Constant-time comparison of HMAC signatures; false for different lengths. */
export function verifyHmacSha256(secret: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const expected = hmacSha256(secret, data);
  return expected.length === signature.length && timingSafeEqual(expected, signature);
}
