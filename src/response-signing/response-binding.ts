import { getFieldLines, HttpMessageView } from '../http-signatures';

/**
 * Request header fields that a signed response covers with `;req` whenever the request
 * carried them: the per-request credential (`Authorization`: a Cavage `Signature`, a `JWT`,
 * a bearer token; `DPoP` proof) and the request body's digest. RFC 9421 §2.4 allows request
 * fields in a response signature.
 */
export const BOUND_REQUEST_FIELDS: readonly string[] = ['authorization', 'dpop', 'content-digest', 'digest'];

/** What a request field is called in messages. */
const FIELD_NAMES: Record<string, string> = {
  '@method': 'method',
  '@authority': 'authority (host)',
  '@path': 'path',
  '@query': 'query',
  signature: 'Signature header',
  authorization: 'Authorization header',
  dpop: 'DPoP header',
  'content-digest': 'Content-Digest header',
  digest: 'Digest header',
};

/** One request component a response signature covers with `;req`. */
export interface RequestBinding {
  readonly name: string;
  readonly params: Readonly<{ key?: string; req: true }>;
  /** The component identifier as it appears in Signature-Input. */
  readonly identifier: string;
  /** What it is, in messages (`Authorization header`, `request signature sig1`). */
  readonly description: string;
}

function binding(name: string, key?: string): RequestBinding {
  return {
    name,
    params: key === undefined ? { req: true } : { key, req: true },
    identifier: `"${name}"${key === undefined ? '' : `;key="${key}"`};req`,
    description: key === undefined ? FIELD_NAMES[name] : `signature ${key}`,
  };
}

/** The bindings without a key, built once: a signed response needs several per request. */
const FIXED: ReadonlyMap<string, RequestBinding> = new Map(
  ['@method', '@authority', '@path', '@query', 'signature', ...BOUND_REQUEST_FIELDS].map((name) => [
    name,
    binding(name),
  ]),
);
const fixed = (name: string): RequestBinding => FIXED.get(name) as RequestBinding;

/**
 * The request components a signed response covers with `;req`, in order: `@method`,
 * `@authority` (the server's configured origin, else the Host it was asked for; the client's
 * request URL), `@path`, `@query`; the request's RFC 9421 signature by label (`signatureLabels`, when it had a
 * `Signature-Input`), or else its whole `Signature` header (a Cavage signature); and each of
 * BOUND_REQUEST_FIELDS the request carried. The server signs exactly these; the client
 * requires exactly these for the request it sent.
 */
export function requestBindings(
  request: HttpMessageView,
  signatureLabels: readonly string[],
): RequestBinding[] {
  const has = (field: string) => getFieldLines(request, field) !== undefined;
  const out = [fixed('@method'), fixed('@authority'), fixed('@path'), fixed('@query')];
  if (has('signature-input')) out.push(...signatureLabels.map((label) => binding('signature', label)));
  else if (has('signature')) out.push(fixed('signature'));
  for (const field of BOUND_REQUEST_FIELDS) if (has(field)) out.push(fixed(field));
  return out;
}

/**
 * Whether a request carried a body: the caller says so (`body`, non-empty), or its headers
 * do (`Content-Length` other than 0, `Transfer-Encoding`, or `Content-Type`).
 */
export function requestHasBody(request: HttpMessageView, body?: string | Uint8Array): boolean {
  if (body !== undefined && body.length > 0) return true;
  const length = getFieldLines(request, 'content-length');
  if (length !== undefined && length.some((v) => v.trim() !== '0')) return true;
  return (
    getFieldLines(request, 'transfer-encoding') !== undefined ||
    getFieldLines(request, 'content-type') !== undefined
  );
}
