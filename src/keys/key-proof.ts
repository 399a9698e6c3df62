import type { SecurityContext } from '../context/security-context';
import type { KeyRegistry } from './key-registry';
import type { RegisteredKey } from './registered-key';

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * What a request's credential proves, for the operations that must not be reached
 * with anything less than a private key (minting tokens, adding a key):
 * - `key`: a signature by a registered public key of this account (RFC 9421,
 *   Cavage, asymmetric JWT);
 * - `certificate`: a verified client certificate, known by its SHA-256 fingerprint;
 * - `none`, with the reason for the log: an access token (Bearer or DPoP: a copy of
 *   it is enough), a shared HMAC secret, a certificate known only by a subject DN
 *   forwarded by a proxy, or a Web Bot Auth agent's key (from its directory). None of them
 *   is a revocable key of the registry.
 */
export type KeyProofOutcome =
  | { readonly kind: 'key'; readonly key: RegisteredKey }
  | { readonly kind: 'certificate'; readonly fingerprint: string }
  | { readonly kind: 'none'; readonly reason: string };

export async function keyProofOf(context: SecurityContext, registry: KeyRegistry): Promise<KeyProofOutcome> {
  if (context.method === 'access-token') return { kind: 'none', reason: 'access token, not a key' };
  // An agent's key comes from its own directory, never from the registry: a registry key that
  // happens to carry the same id (its thumbprint), revoked or not, was not what verified it.
  if (context.method === 'web-bot-auth') {
    return { kind: 'none', reason: "a Web Bot Auth agent's key, from its directory, not a registered key" };
  }
  if (context.method === 'client-certificate') {
    // A certificate the strategy decoded is named by its fingerprint; DN-only mappings by `dn:...`.
    return HEX_SHA256.test(context.keyId)
      ? { kind: 'certificate', fingerprint: context.keyId }
      : { kind: 'none', reason: 'certificate identified by subject DN only' };
  }
  // A signature or JWT: it proves a key only if the key id names this account's registered
  // key exactly (an HMAC keyid names a shared secret, never a row of the registry).
  const key = await registry.findKey(context.keyId);
  if (!key || key.keyId !== context.keyId || key.userId !== context.user.id) {
    return { kind: 'none', reason: `credential ${context.keyId} is not a registered public key` };
  }
  return { kind: 'key', key };
}
