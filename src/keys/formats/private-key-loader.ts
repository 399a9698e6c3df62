/** Private keys: PEM (PKCS#8 plain or encrypted, PKCS#1, SEC1) here; OpenSSH in openssh-private-key.ts. */
import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import {
  asKeyFormatError,
  assertTextSize,
  describeValueKind,
  fail,
  hasOwn,
  invalid,
  NEW_KEY_HINT,
  PUTTY_PRIVATE,
  quote,
  SUPPORTED_TYPES,
  unsupportedTypeName,
} from './format-checks';
import { MAX_KEY_INPUT_BYTES } from './key-limits';
import { isOpenSshPrivateKey, parseOpenSshPrivateKey } from './openssh-private-key';
import { parsePemEnvelope } from './pem-envelope';

/**
 * Loads a private key: PEM, that is PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8
 * (`ENCRYPTED PRIVATE KEY`, needs `passphrase`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
 * (`EC PRIVATE KEY`); or an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`,
 * ssh-keygen's default, read by the optional peer ssh2). The key must be Ed25519, P-256,
 * P-384 or RSA. Throws {@link KeyFormatError}, or {@link OpenSshKeyError} for an OpenSSH key
 * (a missing or wrong passphrase, a type that does not sign here, ssh2 not installed).
 */
export function loadPrivateKey(input: string | Buffer, passphrase?: string): KeyObject {
  if ((typeof input === 'string' || Buffer.isBuffer(input)) && isOpenSshPrivateKey(input)) {
    if (passphrase !== undefined && typeof passphrase !== 'string')
      throw invalid('The passphrase must be a string.');
    return parseOpenSshPrivateKey(input, passphrase);
  }
  try {
    return loadPrivate(input, passphrase);
  } catch (error) {
    throw asKeyFormatError(
      error,
      'The private key could not be loaded; expected a PKCS#8, PKCS#1, SEC1 or OpenSSH private key.',
    );
  }
}

export function publicKeyFromPrivate(privateKey: KeyObject): KeyObject {
  try {
    if (!(privateKey instanceof KeyObject) || privateKey.type !== 'private') {
      throw invalid('publicKeyFromPrivate needs a private KeyObject (load one with loadPrivateKey).');
    }
    return createPublicKey(privateKey);
  } catch (error) {
    throw asKeyFormatError(error, 'The public key could not be derived from the private key.');
  }
}

function loadPrivate(input: unknown, passphrase: unknown): KeyObject {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else if (input instanceof Uint8Array) {
    if (input.byteLength > MAX_KEY_INPUT_BYTES)
      throw invalid(`The input is larger than ${MAX_KEY_INPUT_BYTES / 1024} KB.`);
    text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  } else {
    throw invalid(`Expected the private key as a PEM string or Buffer, got ${describeValueKind(input)}.`);
  }
  if (passphrase !== undefined && typeof passphrase !== 'string')
    throw invalid('The passphrase must be a string.');
  assertTextSize(text);
  text = text.replace(/^\uFEFF/, '').trim();
  if (text === '') throw invalid('The private key is empty.');
  if (PUTTY_PRIVATE.test(text)) {
    throw invalid(
      'PuTTY private keys are not supported; export the key from PuTTYgen as an OpenSSL (PEM) key.',
    );
  }
  const { label, der } = parsePemEnvelope(text, 'private key');
  const types: Record<string, 'pkcs8' | 'pkcs1' | 'sec1'> = {
    'PRIVATE KEY': 'pkcs8',
    'ENCRYPTED PRIVATE KEY': 'pkcs8',
    'RSA PRIVATE KEY': 'pkcs1',
    'EC PRIVATE KEY': 'sec1',
  };
  if (!hasOwn(types, label)) {
    throw invalid(
      label.includes('PUBLIC KEY')
        ? 'This is a public key ("PUBLIC KEY"), but signing needs the private key: pass the .key file, not the .pub file.'
        : `A "${label}" PEM block is not a supported private key; use PKCS#8 ("PRIVATE KEY"), ` +
            'encrypted PKCS#8, PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE KEY").',
    );
  }
  const encrypted = label === 'ENCRYPTED PRIVATE KEY';
  if (encrypted && (passphrase === undefined || passphrase === '')) {
    throw invalid('This private key is encrypted; supply its passphrase.');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(
      encrypted
        ? { key: der, format: 'der', type: types[label], passphrase: passphrase as string }
        : { key: der, format: 'der', type: types[label] },
    );
  } catch (cause) {
    throw invalid(
      encrypted
        ? 'The private key could not be decrypted: the passphrase is wrong or the key is damaged.'
        : `The "${label}" PEM block does not hold a valid private key.`,
      cause,
    );
  }
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const supported =
    type === 'ed25519' ||
    type === 'rsa' ||
    (type === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1'));
  if (!supported) {
    throw fail(
      'KEY_TYPE_UNSUPPORTED',
      `${type === 'ec' ? `EC keys on curve ${quote(curve ?? 'unknown')}` : unsupportedTypeName(type)} ` +
        `${type === 'ec' ? 'are' : 'keys are'} not supported; use ${SUPPORTED_TYPES}. ${NEW_KEY_HINT}`,
    );
  }
  return key;
}
