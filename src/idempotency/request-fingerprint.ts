import { createHash } from 'node:crypto';
import type { AuthRequest } from '../http/auth-request';

const MAX_DEPTH = 64;

/**
 * What a request asks for, as one SHA-256 hex: the method, the path and query as
 * received, and a hash of the body. Two requests with one Idempotency-Key and
 * different fingerprints are a reused key (422).
 *
 * The body counts as what the handler acts on: its parsed JSON in canonical form
 * (object keys sorted, no whitespace), so re-serializing the same JSON for a retry is
 * the same request, and two bodies that parse alike are alike for the handler too
 * (a duplicated key counts as the value the parser kept). The same rule applies
 * whatever the credential: for a signed request the strategy already checked that
 * the covered Content-Digest (or Digest) matches the bytes this JSON was parsed from,
 * and a client may retry with another credential type. A body that is not JSON, or
 * nested deeper than 64 levels, is hashed as its raw bytes.
 */
export function requestFingerprint(
  request: Pick<AuthRequest, 'method' | 'url' | 'rawBody'>,
  parsedBody: unknown,
): string {
  const canonical = parsedBody === undefined ? undefined : canonicalJson(parsedBody);
  const [mode, bodyHash] =
    canonical !== undefined
      ? ['json', sha256(canonical)]
      : ['bytes', sha256(request.rawBody ?? Buffer.alloc(0))];
  return sha256(JSON.stringify([request.method.toUpperCase(), request.url, mode, bodyHash]));
}

/**
 * JSON with object keys sorted at every level and no whitespace; undefined when the
 * value is nested too deeply or holds something JSON cannot say.
 */
export function canonicalJson(value: unknown, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : undefined;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value) {
      const text = canonicalJson(item === undefined ? null : item, depth + 1);
      if (text === undefined) return undefined;
      items.push(text);
    }
    return `[${items.join(',')}]`;
  }
  if (typeof value === 'object' && !Buffer.isBuffer(value)) {
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      if (record[key] === undefined) continue;
      const text = canonicalJson(record[key], depth + 1);
      if (text === undefined) return undefined;
      members.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${members.join(',')}}`;
  }
  return undefined;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
