import type { KeyAlgorithm } from '../../keys/key-algorithm';
import { HttpSignatureError, quoteInput } from '../http-signature.error';

/** The legacy names of draft-cavage-12 that fix the key algorithm (what our signer sends). */
const LEGACY_NAMES: Readonly<Record<string, KeyAlgorithm>> = {
  'rsa-sha256': 'rsa-v1_5-sha256',
  'rsa-sha512': 'rsa-v1_5-sha512',
  'ecdsa-sha256': 'ecdsa-p256-sha256',
};

/**
 * Cavage algorithm names that fix the key algorithm. hs2019 (or no name) defers to the
 * key. Beyond the draft's legacy names, those that signers in use send for the other key
 * types: joyent's http-signature (sshpk) names Ed25519 `ed25519-sha512` and P-384
 * `ecdsa-sha384`; some send plain `ed25519`. Each must still agree with the stored key.
 */
export const CAVAGE_ALGORITHMS: Readonly<Record<string, KeyAlgorithm>> = {
  ...LEGACY_NAMES,
  'ecdsa-sha384': 'ecdsa-p384-sha384',
  ed25519: 'ed25519',
  'ed25519-sha512': 'ed25519',
};

export const CAVAGE_HS2019 = 'hs2019';

/**
 * The key algorithm to verify a Cavage signature with. The key's registered
 * algorithm always wins: `hs2019` or no algorithm parameter means "the key's",
 * a named algorithm must agree with it, anything else (hmac-*, rsa-sha1, …) is
 * refused with SIGNATURE_ALGORITHM_UNSUPPORTED. With `rsaFamily` (an RSA key
 * registered without an algorithm, see isRsaFamilyKey) `rsa-sha256` and `rsa-sha512`
 * both agree with it and pick the digest, as RS256/RS512 do for JWT; a pinned key pins.
 */
export function resolveCavageAlgorithm(
  name: string | undefined,
  keyAlgorithm: KeyAlgorithm,
  rsaFamily = false,
): KeyAlgorithm {
  if (name === undefined) return keyAlgorithm;
  const lower = name.toLowerCase();
  if (lower === CAVAGE_HS2019) return keyAlgorithm;
  const fixed = Object.prototype.hasOwnProperty.call(CAVAGE_ALGORITHMS, lower)
    ? CAVAGE_ALGORITHMS[lower]
    : undefined;
  if (fixed === undefined) {
    throw new HttpSignatureError(
      'SIGNATURE_ALGORITHM_UNSUPPORTED',
      `unsupported algorithm ${quoteInput(name)}`,
    );
  }
  if (rsaFamily && keyAlgorithm === 'rsa-v1_5-sha256' && fixed.startsWith('rsa-v1_5-')) return fixed;
  if (fixed !== keyAlgorithm) {
    throw new HttpSignatureError(
      'SIGNATURE_ALGORITHM_UNSUPPORTED',
      `algorithm ${quoteInput(name)} does not match the key (${keyAlgorithm})`,
    );
  }
  return fixed;
}

/** The algorithm parameter a signer sends for a key: the legacy name where one exists, else hs2019. */
export function cavageAlgorithmName(keyAlgorithm: KeyAlgorithm): string {
  for (const [name, algorithm] of Object.entries(LEGACY_NAMES)) {
    if (algorithm === keyAlgorithm) return name;
  }
  return CAVAGE_HS2019;
}

/** True for the legacy names with which (created) and (expires) are an error (draft-12 §2.3). */
export function forbidsCreatedExpires(algorithm: string | undefined): boolean {
  if (algorithm === undefined) return false;
  const lower = algorithm.toLowerCase();
  return lower.startsWith('rsa') || lower.startsWith('hmac') || lower.startsWith('ecdsa');
}
