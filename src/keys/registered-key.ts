import type { KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from './key-algorithm';

/**
 * Longest key id a credential may name (what registration accepts): a longer one is
 * refused as malformed before any lookup, by every strategy alike.
 */
export const MAX_KEY_ID_LENGTH = 255;

/**
 * A key as the request path sees it: immutable, with its public key parsed once
 * into a KeyObject. This is what the key cache holds.
 */
export interface RegisteredKey {
  readonly keyId: string;
  readonly userId: string;
  readonly algorithm: KeyAlgorithm;
  /**
   * True when the algorithm was defaulted at registration (no `--alg`, no JWK `alg`):
   * an RSA key then accepts the PKCS#1 v1.5 family (see isRsaFamilyKey). Absent or
   * false: the algorithm is pinned.
   */
  readonly algorithmDefaulted?: boolean;
  readonly keyObject: KeyObject;
  readonly roles: readonly string[] | null;
  readonly fingerprint: string;
  readonly pemSha256: string;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
}

/** What admin and self-service endpoints return about a key (never anything secret). */
export interface KeyView {
  keyId: string;
  fingerprint: string;
  algorithm: KeyAlgorithm;
  label: string | null;
  roles: string[] | null;
  publicKeyPem: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}
