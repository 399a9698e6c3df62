import { decodeStrictBase64 } from '../base64';
import { HttpSignatureError, quoteInput } from '../http-signature.error';
import { trimOws } from '../http-message';
import { verifyEntries, type DigestEntry, type DigestVerifyOptions } from './content-digest';
import {
  MAX_DIGEST_FIELD_LENGTH,
  digestOf,
  isDigestAlgorithm,
  type DigestAlgorithm,
} from './digest-algorithm';

/** One instance-digest of an RFC 3230 Digest field: the algorithm lowercased, the value as received. */
export interface LegacyDigestEntry {
  readonly algorithm: string;
  readonly value: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function malformed(message: string): HttpSignatureError {
  return new HttpSignatureError('DIGEST_MALFORMED', message);
}

/*
 * RFC 3230 `Digest: SHA-256=<base64>, …` is not a structured field (the value is
 * bare base64 with "=" padding), so no structured-field parser reads it.
 */

/** Parses a legacy Digest value; algorithm tokens are case-insensitive and returned lowercased. */
export function parseLegacyDigest(value: string): LegacyDigestEntry[] {
  if (typeof value !== 'string' || value.length > MAX_DIGEST_FIELD_LENGTH) {
    throw malformed(`Digest is longer than ${MAX_DIGEST_FIELD_LENGTH} characters`);
  }
  const entries: LegacyDigestEntry[] = [];
  const seen = new Set<string>();
  for (const part of value.split(',')) {
    const instance = trimOws(part);
    const eq = instance.indexOf('=');
    const token = eq === -1 ? instance : instance.slice(0, eq);
    if (eq <= 0 || !TOKEN.test(token)) {
      throw malformed(`Digest member ${quoteInput(instance)} is not token=value`);
    }
    const algorithm = token.toLowerCase();
    if (seen.has(algorithm)) throw malformed(`Digest repeats the algorithm ${quoteInput(token)}`);
    seen.add(algorithm);
    entries.push({ algorithm, value: instance.slice(eq + 1) });
  }
  return entries;
}

/** The legacy Digest value for a body, e.g. `SHA-256=…`. */
export function computeLegacyDigest(body: Uint8Array, algorithm: DigestAlgorithm = 'sha-256'): string {
  return `${algorithm.toUpperCase()}=${digestOf(algorithm, body).toString('base64')}`;
}

/**
 * Checks a body against a legacy Digest value like verifyContentDigest does:
 * every accepted algorithm present must match; none present is
 * DIGEST_ALGORITHM_UNSUPPORTED.
 */
export function verifyLegacyDigest(
  value: string,
  body: Uint8Array,
  options: DigestVerifyOptions = {},
): DigestAlgorithm[] {
  const entries: DigestEntry[] = [];
  for (const { algorithm, value: encoded } of parseLegacyDigest(value)) {
    if (!isDigestAlgorithm(algorithm)) continue;
    const digest = decodeStrictBase64(encoded);
    if (digest === undefined) throw malformed(`Digest ${algorithm.toUpperCase()} is not canonical base64`);
    entries.push({ algorithm, digest });
  }
  return verifyEntries(entries, body, options, 'Digest');
}
