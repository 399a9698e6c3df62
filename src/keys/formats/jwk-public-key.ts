/** Public keys as JWK (RFC 7517/7518), read member by member, and their RFC 7638 thumbprint. */
import { createHash } from 'node:crypto';
import {
  ACCEPTED_FORMATS,
  assertTextSize,
  fail,
  hasOwn,
  invalid,
  isRecord,
  NEVER_SHARE,
  NEW_KEY_HINT,
  quote,
  SUPPORTED_TYPES,
} from './format-checks';
import type { PublicJwkMembers } from './public-key.types';

/** The public members of a JWK, and its `alg` when it has one (checked against the key later). */
export interface JwkPublicKey {
  readonly members: PublicJwkMembers;
  readonly alg?: string;
}

export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Registered in IANA "JSON Web Key Elliptic Curve" but not supported here. */
const UNSUPPORTED_CURVES: Readonly<Record<string, string>> = {
  'P-521': 'EC',
  secp256k1: 'EC',
  Ed448: 'OKP',
  X25519: 'OKP',
  X448: 'OKP',
};

const JWK_MEMBERS_READ = [
  'kty',
  'crv',
  'x',
  'y',
  'n',
  'e',
  'alg',
  'use',
  'key_ops',
  'keys',
  ...PRIVATE_JWK_MEMBERS,
];

/**
 * The public members of a JWK object, strictly: private or symmetric members are refused
 * as such, `use`/`key_ops` must allow verification, and each member is canonical base64url.
 * `fromObject`: the JWK came in as an object (not JSON text), so its size has not been
 * checked yet; that is done after the private-material check, so a private JWK is always
 * reported as such.
 */
export function membersFromJwk(jwk: Record<string, unknown>, fromObject = false): JwkPublicKey {
  // Read every member once, own properties only: getters, proxies and prototypes must not
  // change the answer between two checks.
  const snapshot = new Map<string, unknown>();
  for (const name of JWK_MEMBERS_READ) if (hasOwn(jwk, name)) snapshot.set(name, jwk[name]);
  const get = (name: string): unknown => snapshot.get(name);
  const present = (name: string): boolean => snapshot.has(name);
  const kty = get('kty');

  const privateMembers = PRIVATE_JWK_MEMBERS.filter(present);
  if (kty === 'oct' || privateMembers.length > 0) {
    throw fail(
      'KEY_IS_PRIVATE',
      kty === 'oct' || privateMembers.includes('k')
        ? `This JWK is a symmetric (shared-secret) key, not a public key. ${NEVER_SHARE} Register an ` +
            `asymmetric public key instead. ${NEW_KEY_HINT}`
        : `This JWK contains private key members (${privateMembers.map((m) => `"${m}"`).join(', ')}). ` +
            `${NEVER_SHARE} Send only the public members (kty, crv, x, y for EC/OKP; kty, n, e for RSA).`,
    );
  }
  const keys = get('keys');
  if (kty === undefined && Array.isArray(keys)) {
    if (keys.some((k) => isRecord(k) && (k.kty === 'oct' || PRIVATE_JWK_MEMBERS.some((m) => hasOwn(k, m))))) {
      throw fail('KEY_IS_PRIVATE', `This JWK Set contains private or secret keys. ${NEVER_SHARE}`);
    }
    throw invalid('This is a JWK Set; paste a single key from its "keys" array.');
  }
  if (fromObject) assertJwkObjectSize(jwk);
  if (typeof kty !== 'string') {
    throw invalid(`The JWK has no string "kty" member. ${ACCEPTED_FORMATS}`);
  }

  const crv = get('crv');
  let members: PublicJwkMembers;
  if (kty === 'OKP' || kty === 'EC') {
    if (typeof crv !== 'string') throw invalid(`The ${kty} JWK has no string "crv" member.`);
    if (hasOwn(UNSUPPORTED_CURVES, crv) && UNSUPPORTED_CURVES[crv] === kty) {
      throw fail(
        'KEY_TYPE_UNSUPPORTED',
        `JWK curve "${crv}" is not supported; use ${SUPPORTED_TYPES}. ${NEW_KEY_HINT}`,
      );
    }
    if (kty === 'OKP') {
      if (crv !== 'Ed25519')
        throw invalid(`Unknown OKP curve ${quote(crv)} in the JWK; the supported one is Ed25519.`);
      members = { kty, crv, x: base64urlMember(get('x'), 'x', 32) };
    } else {
      if (crv !== 'P-256' && crv !== 'P-384') {
        throw invalid(`Unknown EC curve ${quote(crv)} in the JWK; the supported ones are P-256 and P-384.`);
      }
      const size = crv === 'P-256' ? 32 : 48;
      members = {
        kty,
        crv,
        x: base64urlMember(get('x'), 'x', size),
        y: base64urlMember(get('y'), 'y', size),
      };
    }
  } else if (kty === 'RSA') {
    members = { kty, n: base64urlMember(get('n'), 'n'), e: base64urlMember(get('e'), 'e') };
  } else if (kty === 'AKP') {
    throw fail(
      'KEY_TYPE_UNSUPPORTED',
      `Post-quantum (AKP) JWKs are not supported yet; use ${SUPPORTED_TYPES}.`,
    );
  } else {
    throw invalid(
      `Unknown JWK key type (kty) ${quote(kty)}; the supported ones are OKP (Ed25519), EC and RSA.`,
    );
  }

  if (present('use') && get('use') !== 'sig') {
    throw fail(
      'KEY_ALGORITHM_MISMATCH',
      `The JWK has "use": ${quote(get('use'))}; a key for verifying signatures must have "use": "sig" ` +
        'or no "use" member.',
    );
  }
  if (present('key_ops')) {
    const ops = get('key_ops');
    if (!Array.isArray(ops) || !ops.every((op) => typeof op === 'string') || !ops.includes('verify')) {
      throw fail(
        'KEY_ALGORITHM_MISMATCH',
        'The JWK\'s "key_ops" does not include "verify"; a key for verifying signatures needs ' +
          '"key_ops": ["verify"] or no "key_ops" member.',
      );
    }
  }
  const alg = present('alg') ? get('alg') : undefined;
  if (present('alg') && typeof alg !== 'string') {
    throw fail(
      'KEY_ALGORITHM_MISMATCH',
      'The JWK\'s "alg" member must be a string such as "EdDSA", "ES256" or "RS256".',
    );
  }
  return alg === undefined ? { members } : { members, alg: alg as string };
}

/**
 * A base64url JWK member, strictly: no padding, only the URL-safe alphabet, canonical
 * trailing bits, the exact length where one is required (RFC 7518 §6.2.1.2), and no
 * leading zero octet for RSA integers (RFC 7518 §6.3.1).
 */
function base64urlMember(value: unknown, name: string, exactLength?: number): string {
  if (typeof value !== 'string' || value === '') {
    throw invalid(`The JWK member "${name}" is missing or not a string.`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(value) || value.length % 4 === 1) {
    throw invalid(`The JWK member "${name}" is not valid base64url (no padding, alphabet A-Z a-z 0-9 - _).`);
  }
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.toString('base64url') !== value) {
    throw invalid(`The JWK member "${name}" is not canonical base64url.`);
  }
  if (exactLength !== undefined && bytes.length !== exactLength) {
    throw invalid(`The JWK member "${name}" must be ${exactLength} bytes; it is ${bytes.length}.`);
  }
  if (exactLength === undefined && bytes[0] === 0) {
    throw invalid(
      `The JWK member "${name}" has a leading zero byte; RSA integers must use the minimum length.`,
    );
  }
  return value;
}

export function assertJwkObjectSize(jwk: Record<string, unknown>): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(jwk);
  } catch (cause) {
    throw invalid('The JWK object cannot be serialised as JSON (it has cycles or non-JSON values).', cause);
  }
  if (typeof json !== 'string') throw invalid('The JWK object cannot be serialised as JSON.');
  assertTextSize(json);
}

/**
 * RFC 7638 JWK SHA-256 thumbprint (base64url): SHA-256 over the required members in
 * lexicographic order, as JSON without whitespace. Synchronous; equals jose's
 * calculateJwkThumbprint for the same key.
 */
export function jwkThumbprint(jwk: PublicJwkMembers): string {
  const required =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'EC'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(required), 'utf8').digest('base64url');
}
