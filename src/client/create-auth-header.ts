import { createHash, KeyObject, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { defaultAlgorithmFor, jwsAlgorithmOf, KeyAlgorithm } from '../keys/key-algorithm';
import { loadPrivateKey, publicKeyFromPrivate } from '../keys/formats/private-key-loader';
import { readKeyFile } from './key-file';
import type { KeySigner } from './key-signer';

export interface CreateAuthHeaderOptions {
  username: string;
  /** A private KeyObject, PEM text, or an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
  privateKey?: KeyObject | string;
  /** Path of a private key file (instead of privateKey): PEM, or OpenSSH such as ~/.ssh/id_ed25519. */
  keyFile?: string;
  /** The passphrase of an encrypted key (PKCS#8 or OpenSSH). */
  keyPassword?: string;
  /** Sign with this instead of a private key, e.g. createSshAgentSigner() (the key stays in the agent). */
  signer?: KeySigner;
  /** The registered keyId. Default: the hex SHA-256 of the public key PEM, as asymmetric_jwt_auth sends. */
  keyId?: string;
  /** Only for RSA keys registered with another algorithm than rsa-v1_5-sha256. */
  algorithm?: KeyAlgorithm;
  /** Seconds since the epoch to put in `time` (default: now). */
  time?: number;
}

/**
 * Loads the private key of the options, from `privateKey` or `keyFile`, PEM or OpenSSH
 * (loadPrivateKey: OpenSshKeyError on a missing or wrong passphrase or an unsupported
 * OpenSSH key type). `keyFile` is read only if it is a regular file of at most 64 KB
 * (KeyFileError otherwise): a FIFO or a device at that path would block the event loop.
 */
export function resolvePrivateKey(options: {
  privateKey?: KeyObject | string;
  keyFile?: string;
  keyPassword?: string;
}): KeyObject {
  if (options.privateKey instanceof KeyObject) return options.privateKey;
  const text =
    typeof options.privateKey === 'string'
      ? options.privateKey
      : options.keyFile
        ? readKeyFile(options.keyFile)
        : undefined;
  if (text === undefined)
    throw new TypeError('Pass privateKey (KeyObject, PEM or OpenSSH text), keyFile, or a signer.');
  return loadPrivateKey(text, options.keyPassword);
}

/**
 * Builds the `Authorization` header value for the asymmetric-JWT strategy:
 * `JWT <token>` with claims `username`, `time` and a fresh `nonce`, signed with
 * the private key. The TypeScript counterpart of asymmetric_jwt_auth's
 * `Token(username).create_auth_header(private_key)`.
 */
export async function createAuthHeader(options: CreateAuthHeaderOptions): Promise<string> {
  const privateKey = options.signer ? undefined : resolvePrivateKey(options);
  const publicKey = privateKey ? publicKeyFromPrivate(privateKey) : await options.signer!.publicKey();
  const algorithm = options.algorithm ?? defaultAlgorithmFor(publicKey);
  if (!algorithm) throw new TypeError('Unsupported key type: use Ed25519, ECDSA P-256/P-384 or RSA.');
  const kid =
    options.keyId ??
    createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'pem' }))
      .digest('hex');
  const claims = {
    username: options.username,
    time: options.time ?? Math.floor(Date.now() / 1000),
    nonce: randomBytes(16).toString('base64url'),
  };
  const header = { alg: jwsAlgorithmOf(algorithm), kid };
  if (privateKey) return `JWT ${await new SignJWT(claims).setProtectedHeader(header).sign(privateKey)}`;
  // jose signs only with a key in this process; with a signer (an ssh-agent) the JWS
  // compact form is assembled here: base64url(header).base64url(claims).base64url(signature).
  const input = `${base64url(header)}.${base64url(claims)}`;
  const signature = await options.signer!.sign(algorithm, Buffer.from(input, 'ascii'));
  return `JWT ${input}.${signature.toString('base64url')}`;
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}
