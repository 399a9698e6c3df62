/** Private keys as PEM: PKCS#8 (plain or encrypted), PKCS#1 and SEC1. */
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
import { parsePemEnvelope } from './pem-envelope';

/**
 * Loads a private key from PEM: PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8
 * (`ENCRYPTED PRIVATE KEY`, needs `passphrase`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
 * (`EC PRIVATE KEY`). The key must be Ed25519, P-256, P-384 or RSA. Throws only
 * {@link KeyFormatError}.
 */
export function loadPrivateKey(input: string | Buffer, passphrase?: string): KeyObject {
  try {
    return loadPrivate(input, passphrase);
  } catch (error) {
    throw asKeyFormatError(
      error,
      'The private key could not be loaded; expected a PKCS#8, PKCS#1 or SEC1 PEM.',
    );
  }
}

/** The public half of a private KeyObject. */
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
  if (/BEGIN OPENSSH PRIVATE KEY/.test(text)) {
    throw invalid(
      'OpenSSH-format private keys are not supported. Convert a copy to PKCS#8 with ' +
        '`cp <key> <copy> && ssh-keygen -p -m PKCS8 -f <copy>` (RSA and ECDSA), or create a new key with ' +
        '`keypair-auth keygen --out <name>`.',
    );
  }
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
