/**
 * The Ed25519 public-key point check. node:crypto (OpenSSL 3.0) takes any 32 bytes as an
 * Ed25519 public key, non-canonical encodings included, and verifies a forged signature
 * (R = identity, S = 0) against the identity point for every message: measured on Node 20
 * with OpenSSL 3.0.19, see "an identity-point key would verify a forged signature in
 * node:crypto" in key-formats.spec.ts. So the check stays, taken from @noble/curves
 * (audited) instead of field arithmetic of our own.
 */
import type { ed25519 as Ed25519 } from '@noble/curves/ed25519';
import { fail, invalid, NEW_KEY_HINT } from './format-checks';

let curve: typeof Ed25519 | undefined;

/**
 * @noble/curves is loaded on the first key checked, not when this file is imported: the
 * client entry imports the key parser (for ssh-agent keys) and must load nothing more than
 * it uses.
 */
function edwards25519(): typeof Ed25519 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  curve ??= (require('@noble/curves/ed25519') as { ed25519: typeof Ed25519 }).ed25519;
  return curve;
}

/**
 * Refuses encodings that are not a point on edwards25519 (RFC 8032 §5.1.3 decoding,
 * strict: y < p, no "negative zero" x), and points of small order, for which signatures
 * can be forged without a private key.
 */
export function checkEd25519Point(encoded: Uint8Array): void {
  const ed25519 = edwards25519();
  let point: InstanceType<typeof Ed25519.ExtendedPoint>;
  try {
    // zip215 = false: the strict RFC 8032 decoding, not ZIP-215's permissive one.
    point = ed25519.ExtendedPoint.fromHex(encoded, false);
  } catch (cause) {
    throw invalid('The Ed25519 public key is not a valid curve point. Paste the key unmodified.', cause);
  }
  if (point.isSmallOrder()) {
    throw fail(
      'KEY_TOO_WEAK',
      `This Ed25519 public key is a small-order point, which anyone can forge signatures for. ${NEW_KEY_HINT}`,
    );
  }
}
