import { decodeStrictBase64 } from '../base64';
import { HttpSignatureError, isHttpSignatureError, quoteInput } from '../http-signature.error';
import { isByteSequence, scanDictionary } from '../structured-field';
import { isInnerList } from 'structured-headers';
import {
  DIGEST_ALGORITHMS,
  MAX_DIGEST_FIELD_LENGTH,
  digestMatches,
  digestOf,
  isDigestAlgorithm,
  type DigestAlgorithm,
} from './digest-algorithm';

/** One member of a digest field: the algorithm key (lowercase) and the digest bytes. */
export interface DigestEntry {
  readonly algorithm: string;
  readonly digest: Buffer;
}

function malformed(message: string): HttpSignatureError {
  return new HttpSignatureError('DIGEST_MALFORMED', message);
}

/**
 * Parses an RFC 9530 Content-Digest (or Repr-Digest) value: a dictionary whose
 * members are byte sequences. Every algorithm is returned, known or not;
 * repeated keys, non-byte-sequence members and sloppy base64 are refused.
 */
export function parseContentDigest(value: string): DigestEntry[] {
  try {
    if (typeof value !== 'string' || value.length > MAX_DIGEST_FIELD_LENGTH) {
      throw malformed(`Content-Digest is longer than ${MAX_DIGEST_FIELD_LENGTH} characters`);
    }
    const scanned = scanDictionary(value);
    if (scanned === undefined) throw malformed('Content-Digest is not a structured dictionary');
    if (scanned.members.length !== scanned.parsed.size) {
      throw malformed('Content-Digest repeats an algorithm');
    }
    if (scanned.members.length === 0) throw malformed('Content-Digest is empty');
    return scanned.members.map(({ key, raw }) => {
      const member = scanned.parsed.get(key);
      if (member === undefined || isInnerList(member) || !isByteSequence(member[0])) {
        throw malformed(`Content-Digest member ${quoteInput(key)} is not a byte sequence`);
      }
      const digest = decodeStrictBase64(raw.slice(1, raw.indexOf(':', 1)));
      if (digest === undefined) {
        throw malformed(`Content-Digest member ${quoteInput(key)} is not canonical base64`);
      }
      return { algorithm: key, digest };
    });
  } catch (error) {
    if (isHttpSignatureError(error)) throw error;
    throw malformed(`Content-Digest could not be parsed (${quoteInput(String(error))})`);
  }
}

/** The Content-Digest value for a body, e.g. `sha-256=:…:`. */
export function computeContentDigest(
  body: Uint8Array,
  algorithms: readonly DigestAlgorithm[] = ['sha-256'],
): string {
  return algorithms.map((a) => `${a}=:${digestOf(a, body).toString('base64')}:`).join(', ');
}

export interface DigestVerifyOptions {
  /** Algorithms to check; members in other algorithms are ignored. Default: sha-256 and sha-512. */
  readonly algorithms?: readonly DigestAlgorithm[];
}

/**
 * Checks a body against every accepted member of a Content-Digest value (raw body
 * bytes, before any decoding) and returns the algorithms checked. Throws
 * DIGEST_ALGORITHM_UNSUPPORTED when no member is in an accepted algorithm,
 * DIGEST_MISMATCH when any accepted member differs, DIGEST_MALFORMED when the
 * field cannot be parsed.
 */
export function verifyContentDigest(
  value: string,
  body: Uint8Array,
  options: DigestVerifyOptions = {},
): DigestAlgorithm[] {
  return verifyEntries(parseContentDigest(value), body, options, 'Content-Digest');
}

/** Shared by Content-Digest and the legacy Digest field. */
export function verifyEntries(
  entries: readonly DigestEntry[],
  body: Uint8Array,
  options: DigestVerifyOptions,
  field: string,
): DigestAlgorithm[] {
  if (!(body instanceof Uint8Array)) throw malformed('the body to check must be bytes');
  const accepted = options.algorithms ?? DIGEST_ALGORITHMS;
  const checked: DigestAlgorithm[] = [];
  let mismatch = false;
  for (const { algorithm, digest } of entries) {
    if (!isDigestAlgorithm(algorithm) || !accepted.includes(algorithm)) continue;
    // Every accepted member is checked, so a wrong one cannot hide behind a right one.
    if (!digestMatches(algorithm, body, digest)) mismatch = true;
    checked.push(algorithm);
  }
  if (checked.length === 0) {
    throw new HttpSignatureError(
      'DIGEST_ALGORITHM_UNSUPPORTED',
      `${field} has no digest in an accepted algorithm (${accepted.join(', ')})`,
    );
  }
  if (mismatch) throw new HttpSignatureError('DIGEST_MISMATCH', `the body does not match ${field}`);
  return checked;
}
