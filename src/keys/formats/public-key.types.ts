import type { KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../key-algorithm';

/** Public JWK members, exactly those RFC 7638 hashes. */
export type PublicJwkMembers =
  | { readonly kty: 'OKP'; readonly crv: 'Ed25519'; readonly x: string }
  | { readonly kty: 'EC'; readonly crv: 'P-256' | 'P-384'; readonly x: string; readonly y: string }
  | { readonly kty: 'RSA'; readonly n: string; readonly e: string };

/** The canonical public JWK: public members plus `alg`, the JWS name of the pinned algorithm. */
export type PublicJwk = PublicJwkMembers & { readonly alg: string };

export interface ParsedPublicKey {
  /** node:crypto public KeyObject, parsed once (always from the canonical JWK members). */
  readonly keyObject: KeyObject;
  /** The pinned algorithm: the requested one, the JWK's `alg`, or the default for the key. */
  readonly algorithm: KeyAlgorithm;
  /** Canonical SPKI PEM, `keyObject.export({ type: 'spki', format: 'pem' })` (uncompressed EC points). */
  readonly spkiPem: string;
  readonly jwk: PublicJwk;
  /** RFC 7638 JWK SHA-256 thumbprint, base64url. */
  readonly thumbprint: string;
  /** Lowercase hex SHA-256 of the spkiPem bytes: the `kid` of the Python asymmetric_jwt_auth package. */
  readonly pemSha256: string;
  readonly keyType: 'ed25519' | 'ec' | 'rsa';
  /** RSA modulus length in bits. */
  readonly bits?: number;
  readonly curve?: 'P-256' | 'P-384';
}

export interface ParsePublicKeyOptions {
  /** Pin this algorithm; refused with KEY_ALGORITHM_MISMATCH when it does not fit the key. */
  readonly algorithm?: KeyAlgorithm;
  /**
   * Smallest RSA modulus in bits (default 2048). Values below 2048 are honoured only
   * when NODE_ENV is 'test' (so tests can use small, fast keys); elsewhere 2048 applies.
   */
  readonly minRsaBits?: number;
}
