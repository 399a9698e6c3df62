import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  cavageSigner,
  computeContentDigest,
  computeLegacyDigest,
  DigestAlgorithm,
  HttpMessageView,
  signCavage,
  signRfc9421,
} from '../http-signatures';
import { defaultAlgorithmFor, KeyAlgorithm, signWithAlgorithm } from '../keys/key-algorithm';
import { publicKeyFromPrivate } from '../keys/formats/private-key-loader';
import { resolvePrivateKey } from './create-auth-header';

export interface RequestToSign {
  method: string;
  url: string | URL;
  /** Headers the request will carry; signed ones must be sent exactly as given. */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface SignRequestOptions {
  keyId: string;
  privateKey?: KeyObject | string;
  keyFile?: string;
  keyPassword?: string;
  /** The algorithm the key is registered with (default: the key's default). */
  algorithm?: KeyAlgorithm;
  /** `rfc9421` (default) or `cavage` (draft-12, `Signature` header, hs2019). */
  format?: 'rfc9421' | 'cavage';
  /** Covered components; default: @method @authority @path [@query] [content-digest] [content-type]. */
  components?: string[];
  /** RFC 9421 label (default `sig1`) and optional tag. */
  label?: string;
  tag?: string;
  /** RFC 9421 nonce: a string, or true for a random one (default true). */
  nonce?: string | boolean;
  /** Seconds until `expires` (RFC 9421) — none by default. */
  expiresIn?: number;
  /** Seconds since the epoch for `created` (default: now). */
  created?: number;
  /** Send `alg` in Signature-Input (default false: the server takes it from the key). */
  includeAlg?: boolean;
  digest?: DigestAlgorithm;
}

/** The request's headers plus the signature headers (and Content-Digest/Digest, Date where needed). */
export interface SignedRequest {
  headers: Record<string, string>;
}

function lowerKeys(headers: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * Signs a request for the HTTP-signature strategy: RFC 9421 by default (with a
 * Content-Digest over the body), or draft-cavage-12. Uses the same core as the
 * server, so what it signs is exactly what the server rebuilds.
 */
export function signRequest(request: RequestToSign, options: SignRequestOptions): SignedRequest {
  const privateKey = resolvePrivateKey(options);
  const algorithm = options.algorithm ?? defaultAlgorithmFor(publicKeyFromPrivate(privateKey));
  if (!algorithm) throw new TypeError('Unsupported key type: use Ed25519, ECDSA P-256/P-384 or RSA.');
  const url = new URL(request.url);
  const headers = lowerKeys(request.headers);
  const body =
    request.body === undefined
      ? undefined
      : typeof request.body === 'string'
        ? Buffer.from(request.body)
        : request.body;
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const view = (): HttpMessageView => ({
    method: request.method.toUpperCase(),
    scheme: url.protocol.slice(0, -1),
    authority: url.host,
    target: `${url.pathname}${url.search}`,
    rawHeaders: Object.entries(headers).flat(),
  });

  if (options.format === 'cavage') {
    if (body !== undefined) headers.digest = computeLegacyDigest(body, options.digest ?? 'sha-256');
    headers.date ??= new Date(created * 1000).toUTCString();
    const covered = options.components ?? [
      '(request-target)',
      'host',
      'date',
      ...(body !== undefined ? ['digest'] : []),
    ];
    const signed = signCavage(view(), {
      keyId: options.keyId,
      algorithm: 'hs2019',
      headers: covered,
      sign: cavageSigner(algorithm, privateKey),
    });
    headers.signature = signed.signature;
    return { headers };
  }

  if (body !== undefined)
    headers['content-digest'] = computeContentDigest(body, [options.digest ?? 'sha-256']);
  const components = options.components ?? [
    '@method',
    '@authority',
    '@path',
    ...(url.search ? ['@query'] : []),
    ...(body !== undefined ? ['content-digest'] : []),
    ...(headers['content-type'] !== undefined ? ['content-type'] : []),
  ];
  const nonce =
    options.nonce === false
      ? undefined
      : typeof options.nonce === 'string'
        ? options.nonce
        : randomBytes(16).toString('base64url');
  const signed = signRfc9421(view(), {
    label: options.label ?? 'sig1',
    components: components.map((name) => ({ name })),
    params: {
      created,
      ...(options.expiresIn !== undefined ? { expires: created + options.expiresIn } : {}),
      keyid: options.keyId,
      ...(nonce !== undefined ? { nonce } : {}),
      ...(options.includeAlg ? { alg: algorithm } : {}),
      ...(options.tag !== undefined ? { tag: options.tag } : {}),
    },
    sign: (base) => signWithAlgorithm(algorithm, privateKey, base),
  });
  headers['signature-input'] = signed.signatureInput;
  headers.signature = signed.signature;
  return { headers };
}
