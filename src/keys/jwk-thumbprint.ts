import { createHash, KeyObject } from 'node:crypto';

/** The members RFC 7638 §3.2 hashes, per key type, in lexicographic order. */
const REQUIRED_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * The RFC 7638 SHA-256 thumbprint of a public key (base64url), as Web Bot Auth uses it for
 * `keyid`. Written here rather than taken from jose because jose's calculateJwkThumbprint
 * is async and the request signer is synchronous; the canonical form is the required
 * members in lexicographic order, JSON without whitespace. Cross-checked against jose in
 * test/web-bot-auth/agent-signer.e2e-spec.ts. Throws a TypeError for other key types.
 */
export function jwkThumbprint(key: KeyObject | Readonly<Record<string, unknown>>): string {
  const jwk: Readonly<Record<string, unknown>> =
    key instanceof KeyObject ? (key.export({ format: 'jwk' }) as Record<string, unknown>) : key;
  const members = REQUIRED_MEMBERS[String(jwk.kty)];
  if (!members) throw new TypeError(`no RFC 7638 thumbprint for key type ${JSON.stringify(jwk.kty)}`);
  const canonical: Record<string, string> = {};
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== 'string' || value.length === 0) {
      throw new TypeError(`JWK member ${name} is missing or not a string`);
    }
    canonical[name] = value;
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}
