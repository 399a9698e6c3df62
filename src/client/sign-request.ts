import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  computeContentDigest,
  ecdsaP1363ToDer,
  computeLegacyDigest,
  DigestAlgorithm,
  HttpMessageView,
  signCavage,
  signRfc9421,
} from '../http-signatures';
import { defaultAlgorithmFor, KeyAlgorithm, signWithAlgorithm } from '../keys/key-algorithm';
import { publicKeyFromPrivate } from '../keys/formats/private-key-loader';
import { resolvePrivateKey } from './create-auth-header';
import type { KeySigner } from './key-signer';

export interface RequestToSign {
  method: string;
  url: string | URL;
  /** Headers the request will carry; signed ones must be sent exactly as given. */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface SignRequestOptions {
  keyId: string;
  /** A private KeyObject, PEM text, or an OpenSSH private key. */
  privateKey?: KeyObject | string;
  /** Path of a private key file: PEM, or OpenSSH such as ~/.ssh/id_ed25519. */
  keyFile?: string;
  /** The passphrase of an encrypted key (PKCS#8 or OpenSSH). */
  keyPassword?: string;
  /**
   * Sign with this instead of a private key, e.g. createSshAgentSigner() (the key stays in the
   * agent). Signing is then asynchronous: use signRequestAsync (createSignedFetch does).
   */
  signer?: KeySigner;
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

/** The headers with lowercase names (the signed names and the names sent are then the same). */
export function lowerKeys(headers: Record<string, string> = {}): Record<string, string> {
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
  if (options.signer)
    throw new TypeError('A signer (such as an ssh-agent) signs asynchronously: use signRequestAsync.');
  const privateKey = resolvePrivateKey(options);
  const algorithm = options.algorithm ?? defaultAlgorithmFor(publicKeyFromPrivate(privateKey));
  if (!algorithm) throw new TypeError('Unsupported key type: use Ed25519, ECDSA P-256/P-384 or RSA.');
  return build(request, options, algorithm, (data) => signWithAlgorithm(algorithm, privateKey, data)).signed;
}

/**
 * signRequest for a `signer` whose signatures arrive asynchronously (an ssh-agent); with a
 * private key it gives the same result as signRequest.
 */
export async function signRequestAsync(
  request: RequestToSign,
  options: SignRequestOptions,
): Promise<SignedRequest> {
  if (!options.signer) return signRequest(request, options);
  const signer = options.signer;
  const algorithm = options.algorithm ?? defaultAlgorithmFor(await signer.publicKey());
  if (!algorithm) throw new TypeError('Unsupported key type: use Ed25519, ECDSA P-256/P-384 or RSA.');
  // The signers of the core are synchronous: a first pass builds the headers with an empty
  // signature and keeps the exact bytes signed; the signature is then put in its place.
  let signedBytes: Buffer | undefined;
  const draft = build(request, options, algorithm, (data) => {
    signedBytes = Buffer.from(data);
    return Buffer.alloc(0);
  });
  if (signedBytes === undefined) throw new Error('nothing was signed');
  const raw = await signer.sign(algorithm, signedBytes);
  const headers = draft.signed.headers;
  if (draft.format === 'cavage') {
    const signature = algorithm.startsWith('ecdsa-') ? ecdsaP1363ToDer(raw) : raw;
    if (!headers.signature.endsWith(',signature=""')) throw new Error('unexpected Cavage signature draft');
    headers.signature = `${headers.signature.slice(0, -'""'.length)}"${signature.toString('base64')}"`;
  } else {
    headers.signature = `${draft.label}=:${raw.toString('base64')}:`;
  }
  return { headers };
}

/** The body as bytes, or undefined for none. */
export function bodyBytes(body: string | Uint8Array | undefined): Uint8Array | undefined {
  return body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
}

/**
 * The message the core signs: read when signRfc9421 runs, so headers added to `headers`
 * before then (Content-Digest, Signature-Agent) are part of it.
 */
export function requestView(method: string, url: URL, headers: Record<string, string>): HttpMessageView {
  return {
    method: method.toUpperCase(),
    scheme: url.protocol.slice(0, -1),
    authority: url.host,
    target: `${url.pathname}${url.search}`,
    rawHeaders: Object.entries(headers).flat(),
  };
}

/** Builds the signed headers, signing with `sign` (ECDSA r||s; Cavage turns it into DER). */
function build(
  request: RequestToSign,
  options: SignRequestOptions,
  algorithm: KeyAlgorithm,
  sign: (data: Buffer) => Buffer,
): { signed: SignedRequest; format: 'rfc9421' | 'cavage'; label: string } {
  const url = new URL(request.url);
  const headers = lowerKeys(request.headers);
  const body = bodyBytes(request.body);
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const view = (): HttpMessageView => requestView(request.method, url, headers);
  const label = options.label ?? 'sig1';

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
      sign: (data) => {
        const raw = sign(data);
        return raw.length > 0 && algorithm.startsWith('ecdsa-') ? ecdsaP1363ToDer(raw) : raw;
      },
    });
    headers.signature = signed.signature;
    return { signed: { headers }, format: 'cavage', label };
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
    label,
    components: components.map((name) => ({ name })),
    params: {
      created,
      ...(options.expiresIn !== undefined ? { expires: created + options.expiresIn } : {}),
      keyid: options.keyId,
      ...(nonce !== undefined ? { nonce } : {}),
      ...(options.includeAlg ? { alg: algorithm } : {}),
      ...(options.tag !== undefined ? { tag: options.tag } : {}),
    },
    sign,
  });
  headers['signature-input'] = signed.signatureInput;
  headers.signature = signed.signature;
  return { signed: { headers }, format: 'rfc9421', label };
}
