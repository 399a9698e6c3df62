import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { headerValues } from '../http/auth-request';

/** Longest claimed key id kept (in characters) before hashing; anything longer is cut. */
export const MAX_CLAIMED_KEY_ID = 512;
/** Longest header text scanned for a key id: the strategies refuse longer credentials anyway. */
const MAX_SCAN = 16 * 1024;
/** Longest JWT segment decoded to find `kid`, `typ` and the claimed user. */
const MAX_SEGMENT = 4096;

const RFC9421_KEYID = /(?:^|;)\s*keyid="((?:[^"\\]|\\.){1,512})"/;
const CAVAGE_KEYID = /(?:^|[\s,])keyid\s*=\s*"([^"]{1,512})"/i;

/** What a request claims to be, before anything is verified. */
export interface ClaimedIdentity {
  /** A key id: RFC 9421 `keyid`, Cavage `keyId`, a JWT's `kid`, or an access token's `key_id`. */
  readonly keyId?: string;
  /** The username of a JWT that names no key (`username` or `sub`). */
  readonly username?: string;
}

/**
 * The key id a request **claims**, read cheaply and without trusting it: the RFC 9421
 * `keyid` parameter, the Cavage `keyId`, a JWT's `kid` (for an access token, its
 * `key_id` claim, since every access token carries the server's `kid`), or, for a JWT
 * without `kid`, the claimed username. Used to count failures per claimed key and to
 * say in the audit log what a failed request claimed; nothing here decides who the
 * caller is. Undefined when the request names nothing (certificates: the proxy's
 * header is not decoded here). Values are cut to 512 characters. Never throws.
 */
export function claimedIdentity(rawHeaders: readonly string[]): ClaimedIdentity | undefined {
  try {
    const input = headerValues(rawHeaders, 'signature-input')[0];
    if (input !== undefined) return keyIdOf(RFC9421_KEYID.exec(input.slice(0, MAX_SCAN))?.[1]);
    const authorization = headerValues(rawHeaders, 'authorization')[0]?.trim().slice(0, MAX_SCAN);
    const signature = headerValues(rawHeaders, 'signature')[0];
    if (signature !== undefined || /^signature\s/i.test(authorization ?? '')) {
      return keyIdOf(CAVAGE_KEYID.exec((signature ?? authorization ?? '').slice(0, MAX_SCAN))?.[1]);
    }
    const match =
      authorization && /^(?:jwt|bearer|dpop)\s+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)/i.exec(authorization);
    if (!match) return undefined;
    const header = decodeSegment(match[1]);
    if (header === undefined) return undefined;
    if (header.typ !== 'at+jwt' && typeof header.kid === 'string') return keyIdOf(header.kid);
    const payload = decodeSegment(match[2]);
    if (header.typ === 'at+jwt') return keyIdOf(payload?.key_id);
    const user = payload?.username ?? payload?.sub;
    return typeof user === 'string' && user.length > 0
      ? { username: user.slice(0, MAX_CLAIMED_KEY_ID) }
      : undefined;
  } catch {
    return undefined;
  }
}

function keyIdOf(value: unknown): ClaimedIdentity | undefined {
  return typeof value === 'string' && value.length > 0
    ? { keyId: value.slice(0, MAX_CLAIMED_KEY_ID) }
    : undefined;
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  if (segment.length === 0 || segment.length > MAX_SEGMENT) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The counting unit of an address: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6
 * by its /64 prefix, since one client usually holds a whole /64. Anything else (an
 * app's own `clientAddress` answer) is used as given, cut to 256 characters.
 */
export function addressKey(address: string): string {
  const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  if (isIPv6(plain)) {
    const groups = expandIPv6(plain);
    if (groups) return `${groups.slice(0, 4).join(':')}::/64`;
  }
  return plain.slice(0, 256);
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined. */
function expandIPv6(address: string): string[] | undefined {
  let text = address.split('%', 1)[0].toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? left.length !== 8 : missing < 1) return undefined;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}

/** The store key of a claimed identity: hashed, so its size is bounded and no request text is stored. */
export function identityStoreKey(claimed: ClaimedIdentity): string {
  const text = claimed.keyId !== undefined ? `key:${claimed.keyId}` : `user:${claimed.username ?? ''}`;
  return `k:${createHash('sha256').update(text).digest('base64url')}`;
}

/** The store key of an address (already reduced by addressKey). */
export function addressStoreKey(address: string): string {
  return `a:${address.length > 64 ? createHash('sha256').update(address).digest('base64url') : address}`;
}
