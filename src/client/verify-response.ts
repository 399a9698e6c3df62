import { createPublicKey, KeyObject } from 'node:crypto';
import {
  buildSignatureBase,
  getFieldLines,
  HttpMessageView,
  parseRfc9421,
  verifyContentDigest,
} from '../http-signatures';
import {
  isKeyAlgorithm,
  KeyAlgorithm,
  keyAlgorithmFromJws,
  verifyWithAlgorithm,
} from '../keys/key-algorithm';
import { requestBindings, requestHasBody } from '../response-signing/response-binding';

/** A server public key for response verification: a KeyObject with its algorithm. */
export interface ServerKey {
  key: KeyObject;
  algorithm: KeyAlgorithm;
}

/** Keys by keyid, e.g. from `/.well-known/jwks.json`. */
export type ServerKeys = ReadonlyMap<string, ServerKey>;

export class ResponseVerificationError extends Error {
  override readonly name = 'ResponseVerificationError';
}

/** Reads a JWK Set (as served at /.well-known/jwks.json) into verification keys. */
export function serverKeysFromJwks(jwks: { keys?: unknown }): ServerKeys {
  const out = new Map<string, ServerKey>();
  for (const jwk of Array.isArray(jwks.keys) ? (jwks.keys as Record<string, unknown>[]) : []) {
    const algorithm = typeof jwk.alg === 'string' ? keyAlgorithmFromJws(jwk.alg) : undefined;
    if (typeof jwk.kid !== 'string' || !algorithm || 'd' in jwk) continue;
    out.set(jwk.kid, {
      key: createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
      algorithm,
    });
  }
  return out;
}

export interface ResponseToVerify {
  status: number;
  /** Response headers as name/value pairs. */
  headers: Iterable<[string, string]>;
  body: Uint8Array;
}

/** The request a response answers: its view, and its body when the caller has it. */
export type RequestToBind = HttpMessageView & { body?: string | Uint8Array };

/**
 * Verifies a signed response (RFC 9421 §2.4) against the request that caused it:
 * the server key named by `keyid`, the algorithm of that key, the Content-Digest
 * over the body, and that the response covers with `;req` the request's method,
 * authority, path and query, its signature (RFC 9421 by label, Cavage as the Signature header) and its
 * Authorization, DPoP, Content-Digest and Digest headers, each when the request had it
 * (see requestBindings). A request with a body (passed as `request.body`, or shown by its
 * Content-Length, Transfer-Encoding or Content-Type) must carry Content-Digest or Digest,
 * or its body would not be bound. Throws ResponseVerificationError otherwise.
 */
export function verifySignedResponse(
  response: ResponseToVerify,
  request: RequestToBind,
  keys: ServerKeys,
  maxAgeSeconds = 300,
): void {
  if (
    requestHasBody(request, request.body) &&
    getFieldLines(request, 'content-digest') === undefined &&
    getFieldLines(request, 'digest') === undefined
  ) {
    throw new ResponseVerificationError(
      'the request body is not bound to the response: the request has a body but no Content-Digest ' +
        'header, so this answer could be the answer to the same request with another body. Send ' +
        'Content-Digest with the request (createSignedFetch and signRequest add it).',
    );
  }
  const view: HttpMessageView = { status: response.status, rawHeaders: [...response.headers].flat() };
  let signatures;
  try {
    signatures = parseRfc9421(view);
  } catch (error) {
    throw new ResponseVerificationError(`response signature unreadable: ${(error as Error).message}`);
  }
  if (signatures.length !== 1)
    throw new ResponseVerificationError(`expected one response signature, found ${signatures.length}`);
  const [sig] = signatures;
  const server = sig.params.keyid !== undefined ? keys.get(sig.params.keyid) : undefined;
  if (!server) throw new ResponseVerificationError('response signed with an unknown server key');
  if (
    sig.params.alg !== undefined &&
    (!isKeyAlgorithm(sig.params.alg) || sig.params.alg !== server.algorithm)
  ) {
    throw new ResponseVerificationError('response alg differs from the server key');
  }
  const created = sig.params.created;
  const now = Math.floor(Date.now() / 1000);
  if (created === undefined || created > now + 60 || created < now - maxAgeSeconds) {
    throw new ResponseVerificationError('response signature is missing created or is out of date');
  }
  const covered = new Set(sig.components.map((c) => c.identifier));
  for (const required of ['"@status"', '"content-digest"']) {
    if (!covered.has(required))
      throw new ResponseVerificationError(`response signature does not cover ${required}`);
  }
  let requestLabels: string[] = [];
  try {
    if (getFieldLines(request, 'signature-input') !== undefined)
      requestLabels = parseRfc9421(request).map((s) => s.label);
  } catch (error) {
    throw new ResponseVerificationError(
      `the request's own signature is unreadable: ${(error as Error).message}`,
    );
  }
  for (const required of requestBindings(request, requestLabels)) {
    if (!covered.has(required.identifier)) {
      throw new ResponseVerificationError(
        `response is not bound to the request's ${required.description} (its signature does not cover ` +
          `${required.identifier}), so it may be the answer to another request`,
      );
    }
  }
  let base;
  try {
    base = buildSignatureBase(view, sig, request);
    verifyContentDigest(getFieldLines(view, 'content-digest')?.join(', ') ?? '', response.body);
  } catch (error) {
    throw new ResponseVerificationError(`response does not verify: ${(error as Error).message}`);
  }
  if (!verifyWithAlgorithm(server.algorithm, server.key, base, sig.signature)) {
    throw new ResponseVerificationError('response signature does not verify');
  }
}
