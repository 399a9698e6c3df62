/**
 * What the key-format parsers share: the error constructors, the hint texts that say
 * how to fix an input, and the input-size check.
 */
import { KeyObject } from 'node:crypto';
import { KeyFormatError, type KeyFormatErrorCode } from './key-format.error';
import { MAX_KEY_INPUT_BYTES } from './key-limits';

export const ACCEPTED_FORMATS =
  'Paste one public key as SPKI PEM ("-----BEGIN PUBLIC KEY-----"), PKCS#1 RSA PEM ' +
  '("-----BEGIN RSA PUBLIC KEY-----"), an OpenSSH public key line ("ssh-ed25519 AAAA…"), or a public JWK.';
export const SUPPORTED_TYPES = 'Ed25519, ECDSA P-256, ECDSA P-384 or RSA (2048 bits or more)';
export const NEW_KEY_HINT =
  'Generate a new key with `keypair-auth keygen --type ed25519 --out <name>` (--type also takes p256, p384, rsa).';

export const NEVER_SHARE = 'Never paste or send a private key; if it has left your machine, replace it.';

export const PUTTY_PRIVATE = /PuTTY-User-Key-File-\d+:/;

export function fail(code: KeyFormatErrorCode, message: string, cause?: unknown): KeyFormatError {
  return new KeyFormatError(code, message, cause === undefined ? undefined : { cause });
}

export const invalid = (message: string, cause?: unknown) => fail('KEY_FORMAT_INVALID', message, cause);

/** A short JSON-quoted rendering of a value that is not key material (an alg, kty, crv, label…). */
export function quote(value: unknown, max = 32): string {
  if (typeof value !== 'string') return value === null ? 'null' : `a ${typeof value}`;
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

export function hasOwn(object: object, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, name);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Converts anything thrown below into a KeyFormatError; node:crypto errors become the cause. */
export function asKeyFormatError(error: unknown, message: string): KeyFormatError {
  return error instanceof KeyFormatError ? error : invalid(message, error);
}

export function describeValueKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'a Buffer (decode it to a string first)';
  if (value instanceof KeyObject) return 'a KeyObject';
  return `a ${typeof value}`;
}

export function unsupportedTypeName(type: string | undefined): string {
  const names: Record<string, string> = {
    ed448: 'Ed448',
    x25519: 'X25519 (key agreement)',
    x448: 'X448 (key agreement)',
    dsa: 'DSA',
    dh: 'Diffie-Hellman',
  };
  return type !== undefined && hasOwn(names, type) ? names[type] : `${quote(type ?? 'unknown')} type`;
}

export function assertTextSize(text: string): void {
  if (text.length > MAX_KEY_INPUT_BYTES || Buffer.byteLength(text, 'utf8') > MAX_KEY_INPUT_BYTES) {
    throw invalid(
      `The input is larger than ${MAX_KEY_INPUT_BYTES / 1024} KB; no supported key is that long. ` +
        'Paste only the key itself.',
    );
  }
}
