import { createPrivateKey, KeyObject } from 'node:crypto';
import { types } from 'node:util';
import { MissingPeerDependencyError } from '../../peer-dependencies';
import { OpenSshKeyError } from './openssh-key.error';
import { loadSsh2 } from './ssh2-library';

/** The header ssh-keygen writes by default (openssh-key-v1). */
const OPENSSH_PRIVATE_KEY = /^\s*-----BEGIN OPENSSH PRIVATE KEY-----/;

/** Larger than an RSA 16384-bit key file (about 13 KB). */
const MAX_INPUT_BYTES = 64 * 1024;

/** The OpenSSH key types we sign with, and what node:crypto must make of them. */
const SUPPORTED: Record<string, { keyType: string; curve?: string }> = {
  'ssh-ed25519': { keyType: 'ed25519' },
  'ecdsa-sha2-nistp256': { keyType: 'ec', curve: 'prime256v1' },
  'ecdsa-sha2-nistp384': { keyType: 'ec', curve: 'secp384r1' },
  'ssh-rsa': { keyType: 'rsa' },
};

const USE_INSTEAD = 'use an Ed25519, ECDSA P-256/P-384 or RSA key (ssh-keygen -t ed25519)';

/** True when the text is an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
export function isOpenSshPrivateKey(input: string | Buffer): boolean {
  const head = typeof input === 'string' ? input.slice(0, 200) : input.subarray(0, 200).toString('latin1');
  return OPENSSH_PRIVATE_KEY.test(head);
}

/**
 * Loads an OpenSSH private key (ssh-keygen's default format), encrypted or not, as a
 * node:crypto KeyObject: Ed25519, ECDSA P-256/P-384 or RSA (2048 bits or more). The
 * format is read by ssh2 (an optional peer, loaded here), not by a parser of ours; ssh2
 * re-encodes the key as PEM, which node:crypto loads.
 *
 * @throws OpenSshKeyError with a code and a message that says how to fix the problem.
 */
export function parseOpenSshPrivateKey(input: string | Buffer, passphrase?: string): KeyObject {
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (data.length > MAX_INPUT_BYTES)
    throw new OpenSshKeyError(
      'OPENSSH_KEY_INVALID',
      `This OpenSSH private key file is over ${MAX_INPUT_BYTES / 1024} KB: give the file ssh-keygen wrote.`,
    );
  let ssh2;
  try {
    ssh2 = loadSsh2('to read OpenSSH private keys');
  } catch (error) {
    if (error instanceof MissingPeerDependencyError)
      throw new OpenSshKeyError('OPENSSH_SSH2_MISSING', error.message);
    throw error;
  }
  let result: ReturnType<typeof ssh2.utils.parseKey>;
  try {
    result = ssh2.utils.parseKey(
      data,
      passphrase === undefined || passphrase === '' ? undefined : passphrase,
    );
  } catch (error) {
    result = isError(error) ? error : new Error(String(error));
  }
  // ssh2 returns (not throws) its errors, some made by node:crypto in Node's own realm: in a
  // vm or jest realm `instanceof Error` misses those, so the native check comes first.
  if (isError(result)) throw explain(result, data);
  const keys = Array.isArray(result) ? result : [result];
  if (keys.length !== 1)
    throw new OpenSshKeyError(
      'OPENSSH_KEY_INVALID',
      `This OpenSSH private key file holds ${keys.length} keys: give a file with one key.`,
    );
  const parsed = keys[0];
  const expected = SUPPORTED[parsed.type];
  if (!expected)
    throw new OpenSshKeyError(
      'OPENSSH_KEY_TYPE_UNSUPPORTED',
      `OpenSSH ${describeType(parsed.type)} keys cannot sign here: ${USE_INSTEAD}.`,
    );
  let key: KeyObject;
  try {
    key = createPrivateKey(parsed.getPrivatePEM());
  } catch {
    throw new OpenSshKeyError(
      'OPENSSH_KEY_INVALID',
      'This OpenSSH private key is damaged (its key values do not form a valid key): use the file ssh-keygen wrote.',
    );
  }
  if (
    key.asymmetricKeyType !== expected.keyType ||
    (expected.curve !== undefined && key.asymmetricKeyDetails?.namedCurve !== expected.curve)
  )
    throw new OpenSshKeyError(
      'OPENSSH_KEY_INVALID',
      'This OpenSSH private key is damaged: use the file ssh-keygen wrote.',
    );
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
    throw new OpenSshKeyError(
      'OPENSSH_KEY_TYPE_UNSUPPORTED',
      `This RSA key has ${key.asymmetricKeyDetails?.modulusLength} bits; at least 2048 are needed: ` +
        'create a new key (ssh-keygen -t ed25519, or -t rsa -b 3072).',
    );
  return key;
}

function isError(value: unknown): value is Error {
  return types.isNativeError(value) || value instanceof Error;
}

function describeType(type: unknown): string {
  if (typeof type !== 'string' || type === '') return 'unknown-type';
  if (type === 'ssh-dss') return 'DSA (ssh-dss)';
  if (type.startsWith('sk-')) return `security-key (${type})`;
  return type;
}

/**
 * The cipher an openssh-key-v1 file is encrypted with (`none` when it is not), or undefined
 * when the text is not one. Read here because ssh2 does not say which cipher it failed on;
 * only the header is read: "openssh-key-v1\0", then the cipher name as an SSH string.
 */
function cipherOf(data: Buffer): string | undefined {
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END/.exec(
    data.toString('latin1'),
  )?.[1];
  if (body === undefined) return undefined;
  const blob = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (blob.length < magic.length + 4 || blob.toString('latin1', 0, magic.length) !== magic) return undefined;
  const length = blob.readUInt32BE(magic.length);
  if (length > 64 || magic.length + 4 + length > blob.length) return undefined;
  return blob.toString('latin1', magic.length + 4, magic.length + 4 + length);
}

/** Ciphers ssh-keygen -Z offers that ssh2 (1.17) cannot decrypt. */
const UNSUPPORTED_CIPHERS = new Set(['chacha20-poly1305@openssh.com']);

/** ssh2's error as one of ours; its messages never contain key material or the passphrase. */
function explain(error: Error, data: Buffer): OpenSshKeyError {
  const message = String(error.message);
  const cipher = cipherOf(data);
  if (cipher !== undefined && UNSUPPORTED_CIPHERS.has(cipher))
    return new OpenSshKeyError(
      'OPENSSH_CIPHER_UNSUPPORTED',
      `This OpenSSH private key is encrypted with ${cipher}, which ssh2 (the library that reads OpenSSH keys here) ` +
        'cannot decrypt: re-encrypt it with a cipher it reads, keeping the passphrase: ssh-keygen -p -Z aes256-ctr -f KEYFILE ' +
        '(or sign through ssh-agent, which reads it).',
    );
  if (/no passphrase given/i.test(message))
    return new OpenSshKeyError(
      'OPENSSH_PASSPHRASE_REQUIRED',
      'This OpenSSH private key is encrypted: supply its passphrase.',
    );
  // aes*-gcm keys fail their authentication tag with node:crypto's "Unsupported state or
  // unable to authenticate data" when the passphrase is wrong.
  if (/bad passphrase|integrity check failed|decrypt|unable to authenticate data/i.test(message))
    return new OpenSshKeyError(
      'OPENSSH_PASSPHRASE_WRONG',
      'The passphrase does not decrypt this OpenSSH private key: check it ' +
        '(`ssh-keygen -y -f KEYFILE` asks for it and prints the public key when it is right).',
    );
  const type = /private key type: (\S+)/i.exec(message)?.[1];
  if (type !== undefined)
    return new OpenSshKeyError(
      'OPENSSH_KEY_TYPE_UNSUPPORTED',
      `OpenSSH ${describeType(type)} keys cannot sign here: ${USE_INSTEAD}.`,
    );
  return new OpenSshKeyError(
    'OPENSSH_KEY_INVALID',
    `This is not a readable OpenSSH private key (${message}): give the private key file ssh-keygen wrote.`,
  );
}
