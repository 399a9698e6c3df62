import { createHash, KeyObject, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { defaultAlgorithmFor, jwsAlgorithmOf, KeyAlgorithm } from '../keys/key-algorithm';
import { publicKeyFromPrivate } from '../keys/formats/private-key-loader';

// The DPoP (RFC 9449) pieces both sides need: the client builds proofs with them,
// the server (dpop.verifier.ts) checks proofs against the same definitions.

/**
 * The JWS algorithms a DPoP proof may use here. A proof's key is not a registered key,
 * so nothing pins it: any asymmetric algorithm that fits the proof's `jwk` (RSA of 2048+
 * bits with a bounded exponent). `Ed25519` (RFC 9864) is accepted as an alias of EdDSA.
 */
export const DPOP_ALGORITHMS: readonly string[] = [
  'EdDSA',
  'ES256',
  'ES384',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'Ed25519',
];

/** `ath`: base64url SHA-256 of the ASCII access token (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}

/**
 * The `htu` form compared (RFC 9449 §4.3, RFC 3986 §6.2.2–6.2.3): scheme and host
 * lowercased, a default port dropped, no query and no fragment. Null when it is not
 * an absolute http(s) URL.
 */
export function normalizeHtu(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  return `${url.origin}${url.pathname}`;
}

const HTU = /^(https?:\/\/[^/?#\\@\s]+)((?:\/[^?#]*)?)(?:[?#]|$)/i;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The form in which the server compares a proof's `htu` with the request it came with:
 * scheme and host lowercased and a default port dropped (from the authority only), the
 * path exactly as written except for percent-encoding normalisation (RFC 3986 §6.2.2.1–2:
 * hex digits uppercased, unreserved characters decoded), no query, no fragment. Dot
 * segments are NOT removed and a backslash is not read as a slash (a path with one, or
 * with userinfo in the authority, gives null): `/x/%2e%2e/a` names another resource than
 * `/a` for a router that does not resolve it, so a proof for one is never taken for the other.
 */
export function comparableHtu(value: string): string | null {
  const match = HTU.exec(value);
  if (!match || /[\\\s]/.test(match[2])) return null;
  let origin: string;
  try {
    origin = new URL(match[1]).origin;
  } catch {
    return null;
  }
  const path = match[2] === '' ? '/' : match[2];
  return `${origin}${path.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : escape.toUpperCase();
  })}`;
}

export interface DpopProofOptions {
  privateKey: KeyObject;
  /** The algorithm of the key (default: the key's default, RS256 for RSA). */
  algorithm?: KeyAlgorithm;
  /** The HTTP method of the request the proof goes with. */
  method: string;
  /** The URL of that request (query and fragment are left out of `htu`). */
  url: string | URL;
  /** The access token the request carries, for `ath` (resource requests). */
  accessToken?: string;
  /** Seconds since the epoch (default now). */
  iat?: number;
  jti?: string;
}

/** A DPoP proof JWT (`typ: dpop+jwt`, the public key in `jwk`) for one request. */
export async function createDpopProof(options: DpopProofOptions): Promise<string> {
  const publicKey = publicKeyFromPrivate(options.privateKey);
  const algorithm = options.algorithm ?? defaultAlgorithmFor(publicKey);
  if (!algorithm) throw new TypeError('Unsupported key type: use Ed25519, ECDSA P-256/P-384 or RSA.');
  const htu = normalizeHtu(String(options.url));
  if (!htu)
    throw new TypeError(`DPoP needs an absolute http(s) URL (got ${String(options.url).slice(0, 80)})`);
  return new SignJWT({
    jti: options.jti ?? randomBytes(16).toString('base64url'),
    htm: options.method.toUpperCase(),
    htu,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.accessToken !== undefined ? { ath: accessTokenHash(options.accessToken) } : {}),
  })
    .setProtectedHeader({
      typ: 'dpop+jwt',
      alg: jwsAlgorithmOf(algorithm),
      jwk: publicKey.export({ format: 'jwk' }),
    })
    .sign(options.privateKey);
}
