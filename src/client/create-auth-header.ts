import { createHash, KeyObject, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { defaultAlgorithmFor, jwsAlgorithmOf, KeyAlgorithm } from '../keys/key-algorithm';
import { loadPrivateKey, publicKeyFromPrivate } from '../keys/formats/private-key-loader';

export interface CreateAuthHeaderOptions {
  username: string;
  /** A private KeyObject or PEM text. */
  privateKey?: KeyObject | string;
  /** Path of a PEM private key file (instead of privateKey). */
  keyFile?: string;
  keyPassword?: string;
  /** The registered keyId. Default: the hex SHA-256 of the public key PEM, as asymmetric_jwt_auth sends. */
  keyId?: string;
  /** Only for RSA keys registered with another algorithm than rsa-v1_5-sha256. */
  algorithm?: KeyAlgorithm;
  /** Seconds since the epoch to put in `time` (default: now). */
  time?: number;
}

/** Loads the private key of the options, from `privateKey` or `keyFile`. */
export function resolvePrivateKey(options: {
  privateKey?: KeyObject | string;
  keyFile?: string;
  keyPassword?: string;
}): KeyObject {
  if (options.privateKey instanceof KeyObject) return options.privateKey;
  if (typeof options.privateKey === 'string') return loadPrivateKey(options.privateKey, options.keyPassword);
  if (options.keyFile) return loadPrivateKey(readFileSync(options.keyFile), options.keyPassword);
  throw new TypeError('Pass privateKey (KeyObject or PEM) or keyFile.');
}

/**
 * Builds the `Authorization` header value for the asymmetric-JWT strategy:
 * `JWT <token>` with claims `username`, `time` and a fresh `nonce`, signed with
 * the private key. The TypeScript counterpart of asymmetric_jwt_auth's
 * `Token(username).create_auth_header(private_key)`.
 */
export async function createAuthHeader(options: CreateAuthHeaderOptions): Promise<string> {
  const privateKey = resolvePrivateKey(options);
  const publicKey = publicKeyFromPrivate(privateKey);
  const algorithm = options.algorithm ?? defaultAlgorithmFor(publicKey);
  if (!algorithm) throw new TypeError('Unsupported key type: use Ed25519, ECDSA P-256/P-384 or RSA.');
  const kid =
    options.keyId ??
    createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'pem' }))
      .digest('hex');
  const token = await new SignJWT({
    username: options.username,
    time: options.time ?? Math.floor(Date.now() / 1000),
    nonce: randomBytes(16).toString('base64url'),
  })
    .setProtectedHeader({ alg: jwsAlgorithmOf(algorithm), kid })
    .sign(privateKey);
  return `JWT ${token}`;
}
