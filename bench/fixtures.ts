import { generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import { createAuthHeader, signRequest } from '../src/client';

/** The account and key every benchmark uses; registered before any measured request. */
export const USERNAME = 'bench';
export const KEY_ID = 'bench-ed25519';
/** The bench user's RSA-2048 key (the JWT comparison with jsonwebtoken, which has no EdDSA). */
export const RSA_KEY_ID = 'bench-rsa';
export const ROLES = ['reader'];

/** A typical signed GET: query string, a content-type, a few unsigned headers. */
export const MICRO_ORIGIN = 'https://api.example.com';
export const REQUEST_PATH = '/v1/items';

/**
 * Path and query of one request. The cursor differs per request, as when a client
 * pages through a collection: a Cavage signature has no nonce and its Date has a
 * one-second resolution, so two identical requests in one second would be one
 * replay (Ed25519 signatures are deterministic). RFC 9421 and JWT carry a nonce.
 */
export function requestTarget(basePath = REQUEST_PATH): string {
  return `${basePath}?limit=10&cursor=${randomBytes(8).toString('base64url')}`;
}

export interface SignOptions {
  /** A Host header to send (not covered by RFC 9421; covered by Cavage). */
  host?: string;
  /** The path the query is appended to (default /v1/items). */
  basePath?: string;
  /** JWT `time` claim in epoch seconds (default: now). */
  jwtTime?: number;
  /** JWT `kid`: the registered keyId (default KEY_ID). */
  keyId?: string;
}
export const UNSIGNED_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'nestjs-keypair-auth-bench/1.0',
  accept: 'application/json',
  'content-type': 'application/json',
};

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

function pair(keys: { privateKey: KeyObject; publicKey: KeyObject }): KeyPair {
  return { ...keys, publicPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function ed25519Key(): KeyPair {
  return pair(generateKeyPairSync('ed25519'));
}

export function rsaKey(): KeyPair {
  return pair(generateKeyPairSync('rsa', { modulusLength: 2048 }));
}

export function p256Key(): KeyPair {
  return pair(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
}

/** One signed request: the header object (as Node's req.headers) and Node-style rawHeaders. */
export interface SignedHeaders {
  /** Path and query, as sent. */
  path: string;
  headers: Record<string, string>;
  rawHeaders: string[];
}

function withRaw(path: string, headers: Record<string, string>): SignedHeaders {
  return { path, headers, rawHeaders: Object.entries(headers).flat() };
}

/**
 * RFC 9421 with our client, the typical six components: @method @authority @path
 * @query content-type accept (signRequest's defaults for this request, plus accept),
 * and created, keyid and a fresh nonce. `host` is sent as a header, as a real client
 * would, but not covered.
 */
export function signRfc9421(origin: string, key: KeyPair, options: SignOptions = {}): SignedHeaders {
  const headers = options.host ? { host: options.host, ...UNSIGNED_HEADERS } : { ...UNSIGNED_HEADERS };
  const path = requestTarget(options.basePath);
  const signed = signRequest(
    { method: 'GET', url: origin + path, headers },
    { keyId: KEY_ID, privateKey: key.privateKey, algorithm: 'ed25519', components: RFC9421_COMPONENTS },
  );
  return withRaw(path, signed.headers);
}

/** What the RFC 9421 requests cover. */
export const RFC9421_COMPONENTS = ['@method', '@authority', '@path', '@query', 'content-type', 'accept'];

/** draft-cavage-12 with our client: (request-target) host date, hs2019 (Ed25519). */
export function signCavage(origin: string, key: KeyPair, options: SignOptions = {}): SignedHeaders {
  const headers = options.host ? { host: options.host, ...UNSIGNED_HEADERS } : { ...UNSIGNED_HEADERS };
  const path = requestTarget(options.basePath);
  const signed = signRequest(
    { method: 'GET', url: origin + path, headers },
    { keyId: KEY_ID, privateKey: key.privateKey, algorithm: 'ed25519', format: 'cavage' },
  );
  return withRaw(path, signed.headers);
}

/**
 * `Authorization: JWT <token>` with our client (asymmetric_jwt_auth claims: username, time, nonce).
 * The algorithm is the key's default, as a client would send it: EdDSA for Ed25519, RS256 for RSA.
 */
export async function signJwt(key: KeyPair, options: SignOptions = {}): Promise<SignedHeaders> {
  const authorization = await createAuthHeader({
    username: USERNAME,
    privateKey: key.privateKey,
    keyId: options.keyId ?? KEY_ID,
    time: options.jwtTime,
  });
  const headers: Record<string, string> = options.host
    ? { host: options.host, ...UNSIGNED_HEADERS }
    : { ...UNSIGNED_HEADERS };
  headers.authorization = authorization;
  return withRaw(requestTarget(options.basePath), headers);
}

export type SignatureKind = 'rfc9421' | 'cavage' | 'jwt';

/** `count` distinct signed requests; JWT `time` may be set ahead so the pool is fresh when used. */
export async function signedPool(
  kind: SignatureKind,
  count: number,
  origin: string,
  key: KeyPair,
  options: SignOptions = {},
): Promise<SignedHeaders[]> {
  const pool: SignedHeaders[] = new Array<SignedHeaders>(count);
  if (kind === 'jwt') {
    // createAuthHeader signs through WebCrypto (jose 6), on libuv's thread pool: keep it busy.
    for (let i = 0; i < count; i += 32) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(32, count - i) }, () => signJwt(key, options)),
      );
      for (let j = 0; j < batch.length; j++) pool[i + j] = batch[j];
    }
    return pool;
  }
  for (let i = 0; i < count; i++) {
    pool[i] = kind === 'rfc9421' ? signRfc9421(origin, key, options) : signCavage(origin, key, options);
  }
  return pool;
}

/**
 * Requests with a credential that may be sent again (a forwarded certificate, an access
 * token): the same extra headers on every request, a different cursor in each, so the
 * requests look like those of the signed scenarios. Cycled, never re-signed.
 */
export function reusablePool(
  count: number,
  extra: Record<string, string>,
  basePath?: string,
): SignedHeaders[] {
  return Array.from({ length: count }, () =>
    withRaw(requestTarget(basePath), { ...UNSIGNED_HEADERS, ...extra }),
  );
}
