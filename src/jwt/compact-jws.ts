import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { authError } from '../errors/keypair-auth.exception';

export interface CompactJws {
  readonly header: ProtectedHeaderParameters;
  readonly payload: JWTPayload;
  /** The JWS signing input: ASCII of `base64url(header).base64url(payload)`. */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

function json(part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw authError('MALFORMED_CREDENTIALS', 'token part is not base64url JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw authError('MALFORMED_CREDENTIALS', 'token part is not a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Splits a compact JWS (already checked against the base64url grammar) once.
 * Hand-written on purpose: jose's decode helpers plus compactVerify parse the token
 * three times, which on this path costs more than the Ed25519 verification itself;
 * the signature is then checked with node:crypto and the algorithm pinned to the
 * stored key (see key-algorithm.ts). Extensions are refused: a `crit` header names
 * processing rules we do not implement (RFC 7515 §4.1.11), e.g. unencoded payloads.
 */
export function parseCompactJws(token: string): CompactJws {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const header = json(token.slice(0, first)) as ProtectedHeaderParameters;
  if (header.crit !== undefined || header.b64 !== undefined) {
    throw authError('MALFORMED_CREDENTIALS', 'JWS extensions (crit, b64) are not supported');
  }
  return {
    header,
    payload: json(token.slice(first + 1, second)) as JWTPayload,
    signingInput: Buffer.from(token.slice(0, second), 'ascii'),
    signature: Buffer.from(token.slice(second + 1), 'base64url'),
  };
}
