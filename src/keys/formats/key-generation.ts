import { generateKeyPairSync, KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../key-algorithm';
import { asKeyFormatError, fail, quote } from './format-checks';
import { DEFAULT_MIN_RSA_BITS, MAX_RSA_BITS } from './key-limits';

export type GeneratedKeyType = 'ed25519' | 'p256' | 'p384' | 'rsa';

export interface GeneratedKeyPair {
  /** Unencrypted PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
  readonly algorithm: KeyAlgorithm;
}

/**
 * Generates a key pair of a supported type: unencrypted PKCS#8 private PEM, SPKI
 * public PEM and the default algorithm. RSA defaults to 3072 bits (allowed: 2048 to
 * 8192) with exponent 65537.
 */
export function generateKeyPair(type: GeneratedKeyType, rsaBits = 3072): GeneratedKeyPair {
  try {
    let pair: { publicKey: KeyObject; privateKey: KeyObject };
    let algorithm: KeyAlgorithm;
    if (type === 'ed25519') {
      pair = generateKeyPairSync('ed25519');
      algorithm = 'ed25519';
    } else if (type === 'p256' || type === 'p384') {
      pair = generateKeyPairSync('ec', { namedCurve: type === 'p256' ? 'P-256' : 'P-384' });
      algorithm = type === 'p256' ? 'ecdsa-p256-sha256' : 'ecdsa-p384-sha384';
    } else if (type === 'rsa') {
      if (!Number.isSafeInteger(rsaBits) || rsaBits < DEFAULT_MIN_RSA_BITS) {
        throw fail(
          'KEY_TOO_WEAK',
          `RSA keys must be at least ${DEFAULT_MIN_RSA_BITS} bits; ${quote(String(rsaBits))} was asked for.`,
        );
      }
      if (rsaBits > MAX_RSA_BITS) {
        throw fail(
          'KEY_TYPE_UNSUPPORTED',
          `RSA keys over ${MAX_RSA_BITS} bits are not supported; use 3072 or 4096.`,
        );
      }
      pair = generateKeyPairSync('rsa', { modulusLength: rsaBits, publicExponent: 0x10001 });
      algorithm = 'rsa-v1_5-sha256';
    } else {
      throw fail(
        'KEY_TYPE_UNSUPPORTED',
        `Unknown key type ${quote(type)}; use one of ed25519, p256, p384, rsa.`,
      );
    }
    return {
      privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      algorithm,
    };
  } catch (error) {
    throw asKeyFormatError(error, 'The key pair could not be generated.');
  }
}
