import { createHash, timingSafeEqual } from 'node:crypto';

/** The digest algorithms accepted, named as in the RFC 9530 registry. */
export const DIGEST_ALGORITHMS = ['sha-256', 'sha-512'] as const;

export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

const NODE_NAMES: Record<DigestAlgorithm, string> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return value === 'sha-256' || value === 'sha-512';
}

export function digestOf(algorithm: DigestAlgorithm, body: Uint8Array): Buffer {
  return createHash(NODE_NAMES[algorithm]).update(body).digest();
}

/** Constant-time comparison of a received digest with the body's; false for another length. */
export function digestMatches(algorithm: DigestAlgorithm, body: Uint8Array, received: Uint8Array): boolean {
  const expected = digestOf(algorithm, body);
  return expected.length === received.length && timingSafeEqual(expected, received);
}

/** At most this many characters of Content-Digest or Digest are parsed. */
export const MAX_DIGEST_FIELD_LENGTH = 8192;
