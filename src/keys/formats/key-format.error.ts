/**
 * Why a key was refused at registration or load time.
 *
 * - `KEY_IS_PRIVATE`: the input holds private or symmetric key material. It is never
 *   stored and never echoed back, not even a prefix.
 * - `KEY_TOO_WEAK`: a supported key type that fails the strength policy: RSA modulus
 *   below the minimum, RSA public exponent even, below 3 or above 2^32 - 1, or an
 *   Ed25519 point of small order.
 * - `KEY_TYPE_UNSUPPORTED`: a well-formed key of a type this module does not verify
 *   with (Ed448, X25519, X448, DSA, DH, RSA-PSS-restricted SPKI, curves other than
 *   P-256 and P-384 such as secp256k1 or P-521, OpenSSH certificates and security-key
 *   types, RSA over 16384 bits).
 * - `KEY_FORMAT_INVALID`: anything that cannot be parsed strictly: unknown formats,
 *   junk around a PEM block, several blocks, inputs over 16 KB, bad base64, truncated
 *   or over-long wire data, points that are not on the curve, unknown JWK `kty`/`crv`.
 * - `KEY_ALGORITHM_MISMATCH`: the requested algorithm (or an unknown algorithm name), or
 *   a JWK's `alg`, `use` or `key_ops`, does not fit a signature-verification key of this
 *   type; also a JWK `alg` that disagrees with the requested algorithm.
 */
export type KeyFormatErrorCode =
  | 'KEY_IS_PRIVATE'
  | 'KEY_TOO_WEAK'
  | 'KEY_TYPE_UNSUPPORTED'
  | 'KEY_FORMAT_INVALID'
  | 'KEY_ALGORITHM_MISMATCH';

export const KEY_FORMAT_ERROR_CODES: readonly KeyFormatErrorCode[] = [
  'KEY_IS_PRIVATE',
  'KEY_TOO_WEAK',
  'KEY_TYPE_UNSUPPORTED',
  'KEY_FORMAT_INVALID',
  'KEY_ALGORITHM_MISMATCH',
];

/**
 * The only error that the key-format functions throw. The message says what was wrong
 * and how to fix it, and is safe to return to the client: it never contains more of
 * the input than {@link describeInputPrefix} allows. Underlying node:crypto errors are
 * kept as `cause` for server-side logs.
 */
export class KeyFormatError extends Error {
  override readonly name = 'KeyFormatError';

  constructor(
    readonly code: KeyFormatErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Characters of the input that an error message may quote. */
export const INPUT_PREFIX_LENGTH = 12;

/**
 * A short, JSON-escaped prefix of the input, for messages such as
 * `the input starting with "-----BEGIN C…" is not a public key`. Quote it only for
 * inputs that were not recognised at all, and never for private key material.
 */
export function describeInputPrefix(text: string): string {
  const chars = Array.from(text.slice(0, INPUT_PREFIX_LENGTH * 2)).slice(0, INPUT_PREFIX_LENGTH);
  const prefix = chars.join('');
  return JSON.stringify(prefix) + (prefix.length < text.length ? '…' : '');
}
