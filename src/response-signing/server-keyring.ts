import { createPublicKey, KeyObject } from 'node:crypto';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import {
  defaultAlgorithmFor,
  isKeyAlgorithm,
  jwsAlgorithmOf,
  KEY_ALGORITHMS,
  KeyAlgorithm,
  keyMatchesAlgorithm,
} from '../keys/key-algorithm';
import { KeyFormatError } from '../keys/formats/key-format.error';
import { loadPrivateKey } from '../keys/formats/private-key-loader';
import { parsePublicKey } from '../keys/formats/public-key-parser';
import { optionFieldNames } from '../options/option-field-names';

/**
 * A server keyId: what a client key's keyId may be (key-registry.ts), 1 to 255 printable
 * ASCII characters without spaces. It is written into every response's Signature-Input
 * (`keyid="…"`, a structured-field string: ASCII only) and every access token's `kid`.
 */
const SERVER_KEY_ID = /^[\x21-\x7e]{1,255}$/;

/** One server signing key as configured: `responseSigning.keys[i]`. */
export interface ServerSigningKeyOptions {
  keyId: string;
  /** PKCS#8 / PKCS#1 / SEC1 PEM, or a private KeyObject. */
  privateKey: string | KeyObject;
  algorithm?: KeyAlgorithm;
}

/** A server key, parsed once: what the response signer and the token issuer sign with. */
export interface ServerKeyringKey {
  readonly keyId: string;
  readonly algorithm: KeyAlgorithm;
  /** The JWS `alg` of the key (EdDSA, ES256, …): the only one tokens signed by it may carry. */
  readonly jwsAlgorithm: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public JWK as published: `kid`, `alg`, `use: sig`, never a private member. */
  readonly jwk: Readonly<Record<string, unknown>>;
}

/**
 * The server's own key set, newest first. The newest key signs (responses and
 * access tokens alike); every listed key is published at `/.well-known/jwks.json`
 * and still verifies what it signed. To rotate, put a new key first and keep the
 * old one listed for as long as what it signed may still be presented (the longest
 * access-token lifetime), then remove it.
 */
export class ServerKeyring {
  readonly keys: readonly ServerKeyringKey[];
  private readonly byKid: ReadonlyMap<string, ServerKeyringKey>;

  constructor(keys: readonly ServerSigningKeyOptions[], optionName = 'responseSigning.keys') {
    if (!Array.isArray(keys) || keys.length === 0) {
      throw ConfigError.create(
        `${optionName} must list at least one key.`,
        'Generate one with `keypair-auth keygen`.',
      );
    }
    const parsed = keys.map((k, i) => parseServerKey(k, optionName, i));
    const byKid = new Map<string, ServerKeyringKey>();
    for (const key of parsed) {
      if (byKid.has(key.keyId)) {
        throw ConfigError.create(
          `${optionName} lists keyId ${JSON.stringify(key.keyId)} twice.`,
          'Give every server key its own keyId (a date works: server-2026-11).',
        );
      }
      byKid.set(key.keyId, key);
    }
    this.keys = Object.freeze(parsed);
    this.byKid = byKid;
  }

  /** The key that signs: the first listed. */
  get current(): ServerKeyringKey {
    return this.keys[0];
  }

  /** A listed key by its keyId (`kid`), or undefined. */
  find(kid: string): ServerKeyringKey | undefined {
    return this.byKid.get(kid);
  }

  /** The public keys as a JWK Set, newest first. */
  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: this.keys.map((k) => ({ ...k.jwk })) };
  }
}

const KNOWN_FIELDS: readonly string[] = [
  'keyId',
  'privateKey',
  'algorithm',
] satisfies readonly (keyof ServerSigningKeyOptions)[];

/** Names people write for `algorithm`: refused with the right spelling and value. */
const ALGORITHM_MISSPELLINGS = ['alg', 'algo', 'algoritm', 'algorithms'];

/** Refuses an entry that is not an object or has a field nothing reads (a typo would otherwise be ignored). */
function checkFields(k: unknown, where: string): void {
  if (k === null || typeof k !== 'object' || Array.isArray(k) || k instanceof KeyObject) {
    throw ConfigError.create(
      `${where} must be an object { keyId, privateKey, algorithm? }.`,
      "Write each key as { keyId: 'server-1', privateKey: '-----BEGIN PRIVATE KEY-----…' }.",
    );
  }
  for (const field of optionFieldNames(k)) {
    if (KNOWN_FIELDS.includes(field)) continue;
    const value = (k as Record<string, unknown>)[field];
    const hint = ALGORITHM_MISSPELLINGS.includes(field.toLowerCase())
      ? ` For the signing algorithm write algorithm: ${JSON.stringify(value)} (one of ${KEY_ALGORITHMS.join(', ')}).`
      : field === 'passphrase'
        ? ' An encrypted private key is not read here: decrypt it first, e.g. ' +
          'createPrivateKey({ key: pem, passphrase }) from node:crypto, and pass the KeyObject as privateKey.'
        : '';
    throw ConfigError.create(
      `unknown option ${where}.${field}: nothing reads it.`,
      `Known options: ${KNOWN_FIELDS.join(', ')}.${hint}`,
    );
  }
}

function parseServerKey(k: ServerSigningKeyOptions, optionName: string, index: number): ServerKeyringKey {
  checkFields(k, `${optionName}[${index}]`);
  if (k.algorithm !== undefined && !isKeyAlgorithm(k.algorithm)) {
    throw ConfigError.create(
      `${optionName}[${index}].algorithm ${JSON.stringify(k.algorithm)} is not a known algorithm.`,
      `Use one of ${KEY_ALGORITHMS.join(', ')}, or leave it out to use the key's default.`,
    );
  }
  if (typeof k?.keyId !== 'string' || !SERVER_KEY_ID.test(k.keyId)) {
    throw ConfigError.create(
      typeof k?.keyId === 'string'
        ? `${optionName} keyId ${JSON.stringify(k.keyId)} is not a valid keyId.`
        : `every ${optionName} entry needs a keyId.`,
      'A keyId is 1 to 255 printable ASCII characters (letters, digits and punctuation, ' +
        'no spaces or accented letters), e.g. "server-2026-11".',
    );
  }
  const privateKey = typeof k.privateKey === 'string' ? loadPrivateKey(k.privateKey) : k.privateKey;
  if (!(privateKey instanceof KeyObject) || privateKey.type !== 'private') {
    throw ConfigError.create(
      `${optionName} key ${JSON.stringify(k.keyId)} is not a private key.`,
      'Pass the PEM of a private key (PKCS#8, PKCS#1 or SEC1) or a private KeyObject.',
    );
  }
  const publicKey = createPublicKey(privateKey);
  const algorithm = k.algorithm ?? defaultAlgorithmFor(publicKey);
  if (!algorithm || !keyMatchesAlgorithm(publicKey, algorithm)) {
    throw ConfigError.create(
      `${optionName} key ${JSON.stringify(k.keyId)} does not fit algorithm ${algorithm}.`,
      'Fix algorithm or key.',
    );
  }
  checkStrength(publicKey, algorithm, k.keyId, optionName);
  const jwsAlgorithm = jwsAlgorithmOf(algorithm);
  const jwk = Object.freeze({
    ...publicKey.export({ format: 'jwk' }),
    kid: k.keyId,
    alg: jwsAlgorithm,
    use: 'sig',
  });
  return Object.freeze({ keyId: k.keyId, algorithm, jwsAlgorithm, privateKey, publicKey, jwk });
}

/**
 * Holds a server key to the rule client keys meet at registration (KEY_TOO_WEAK,
 * KEY_TYPE_UNSUPPORTED): RSA of 2048 to 8192 bits with a sane exponent, P-256, P-384 or
 * Ed25519. A weak server key would sign every access token and signed response, and be
 * published in the JWKS. Unlike client keys, no NODE_ENV lowers the floor.
 */
function checkStrength(
  publicKey: KeyObject,
  algorithm: KeyAlgorithm,
  keyId: string,
  optionName: string,
): void {
  try {
    parsePublicKey(publicKey.export({ format: 'jwk' }) as Record<string, unknown>, { algorithm });
  } catch (error) {
    if (!(error instanceof KeyFormatError)) throw error;
    throw ConfigError.create(
      `${optionName} key ${JSON.stringify(keyId)} is refused (${error.code}): ${error.message}`,
      'A server key must be RSA of 2048 bits or more, or ECDSA P-256, P-384 or Ed25519: ' +
        'create one with `keypair-auth keygen --type ed25519 --out server`.',
    );
  }
}
