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

/*
 * JWS algorithms (RFC 7518, plus RFC 8037's EdDSA and the fully-specified Ed25519
 * of RFC 9864). A token's `alg` is looked up here only to refuse what is not an
 * asymmetric signature at all (`none`, HS*) before any key lookup; whether the
 * key in hand accepts it is jwsAlgorithmsOfKey's decision, from the stored key.
 */
interface JwsSpec {
  readonly keyType: 'ed25519' | 'ec' | 'rsa';
  readonly digest: string | null;
  readonly curve?: 'prime256v1' | 'secp384r1';
  /** RSASSA-PSS with MGF1 of the same digest and a salt as long as the digest (RFC 7518 §3.5). */
  readonly pssSalt?: number;
}

const JWS_SPECS: Readonly<Record<string, JwsSpec>> = {
  EdDSA: { keyType: 'ed25519', digest: null },
  Ed25519: { keyType: 'ed25519', digest: null },
  ES256: { keyType: 'ec', digest: 'sha256', curve: 'prime256v1' },
  ES384: { keyType: 'ec', digest: 'sha384', curve: 'secp384r1' },
  RS256: { keyType: 'rsa', digest: 'sha256' },
  RS384: { keyType: 'rsa', digest: 'sha384' },
  RS512: { keyType: 'rsa', digest: 'sha512' },
  PS256: { keyType: 'rsa', digest: 'sha256', pssSalt: 32 },
  PS384: { keyType: 'rsa', digest: 'sha384', pssSalt: 48 },
  PS512: { keyType: 'rsa', digest: 'sha512', pssSalt: 64 },
};

/** The RSA PKCS#1 v1.5 JWS algorithms a key registered without an algorithm accepts. */
export const RSA_V1_5_JWS = ['RS256', 'RS384', 'RS512'] as const;
/** The RSASSA-PSS JWS algorithms (on such a key only with `jwt.allowPssOnRsaKeys`). */
export const RSA_PSS_JWS = ['PS256', 'PS384', 'PS512'] as const;

/** True for an asymmetric JWS `alg` this library can verify (never `none` or HS*). */
export function isJwsAlgorithm(value: unknown): value is string {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(JWS_SPECS, value);
}

/** True when the key object is of the type (and curve) a JWS algorithm needs. */
export function keyFitsJws(key: KeyObject, jws: string): boolean {
  if (!isJwsAlgorithm(jws)) return false;
  const spec = JWS_SPECS[jws];
  const type = key.asymmetricKeyType;
  if (spec.keyType === 'rsa') return type === 'rsa' || (spec.pssSalt !== undefined && type === 'rsa-pss');
  if (type !== spec.keyType) return false;
  return spec.curve === undefined || key.asymmetricKeyDetails?.namedCurve === spec.curve;
}

/** What the algorithm rules need of a registered key. */
export interface AlgorithmOfKey {
  readonly algorithm: KeyAlgorithm;
  /**
   * True only for a key registered without an algorithm (no `--alg`, no JWK `alg`):
   * an RSA one then accepts the PKCS#1 v1.5 family. Undefined (keys registered before
   * the flag existed) counts as pinned.
   */
  readonly algorithmDefaulted?: boolean;
  readonly keyObject: KeyObject;
}

/**
 * True for an RSA key whose algorithm was defaulted (rsa-v1_5-sha256 not chosen by
 * anyone): the digest of PKCS#1 v1.5 may then follow the client's name (RS256/384/512,
 * Cavage rsa-sha256/rsa-sha512). A pinned key keeps exactly its one algorithm.
 */
export function isRsaFamilyKey(key: AlgorithmOfKey): boolean {
  return (
    key.algorithmDefaulted === true &&
    key.algorithm === 'rsa-v1_5-sha256' &&
    key.keyObject.asymmetricKeyType === 'rsa'
  );
}

/**
 * The JWS algorithms a registered key accepts: its pinned one (EdDSA keys also under
 * the name Ed25519); for an RSA key registered without an algorithm RS256, RS384 and
 * RS512, plus PS256/PS384/PS512 when `allowPss` (the `jwt.allowPssOnRsaKeys` option).
 */
export function jwsAlgorithmsOfKey(key: AlgorithmOfKey, allowPss: boolean): readonly string[] {
  if (isRsaFamilyKey(key)) return allowPss ? [...RSA_V1_5_JWS, ...RSA_PSS_JWS] : RSA_V1_5_JWS;
  if (key.algorithm === 'ed25519') return ['EdDSA', 'Ed25519'];
  return [jwsAlgorithmOf(key.algorithm)];
}

/**
 * Verifies a JWS signature (ECDSA as r||s) with the named JWS algorithm. The caller
 * has already checked that the key accepts it (jwsAlgorithmsOfKey); this checks the key
 * type once more and returns false, never throws.
 */
export function verifyJws(jws: string, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  if (!keyFitsJws(key, jws)) return false;
  const spec = JWS_SPECS[jws];
  try {
    if (spec.keyType === 'ec')
      return verify(spec.digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (spec.pssSalt !== undefined) {
      return verify(
        spec.digest,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.pssSalt },
        signature,
      );
    }
    if (spec.keyType === 'rsa')
      return verify(spec.digest, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}
