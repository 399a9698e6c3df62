/** Size and strength limits that every key format is held to. */

/** Largest accepted input, in UTF-8 bytes (a 16384-bit RSA private key PEM, refused, is about 13 KB). */
export const MAX_KEY_INPUT_BYTES = 16 * 1024;

/** Smallest RSA modulus accepted by default, and the floor outside NODE_ENV=test. */
export const DEFAULT_MIN_RSA_BITS = 2048;

/**
 * Largest RSA modulus accepted. A verification costs about the square of the modulus
 * size, and every request signed by the key pays it on the server: measured with
 * node:crypto (Node 20, e = 65537, idle machine), one verify takes 0.022 ms at 2048
 * bits, 0.036 ms at 3072, 0.060 ms at 4096, 0.215 ms at 8192 and 0.85 ms at 16384 (which
 * also takes about a minute to generate). 8192 bounds what one registered key can make
 * the server spend per request to ~10x a 2048-bit key (16384: ~40x); keys above it are
 * refused at registration and treated as unknown at lookup (KeyRegistry).
 */
export const MAX_RSA_BITS = 8192;

/**
 * Largest RSA public exponent accepted. Real keys use 65537 (very old OpenSSH keys use
 * 35, some old keys 3 or 17). Verification cost grows with the exponent's bit length, so
 * an exponent as long as a 2048-bit modulus makes each verification over 100 times
 * slower: a cheap way to burn server CPU. 2^32 - 1 keeps every exponent that real tools
 * emit (Go's crypto/rsa is stricter still, at 2^31 - 1).
 */
export const MAX_RSA_PUBLIC_EXPONENT = 2n ** 32n - 1n;
