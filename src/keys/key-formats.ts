import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import {
  defaultAlgorithmFor,
  isKeyAlgorithm,
  jwsAlgorithmOf,
  KEY_ALGORITHMS,
  keyAlgorithmFromJws,
  keyMatchesAlgorithm,
  type KeyAlgorithm,
} from './key-algorithm';
import { describeInputPrefix, KeyFormatError, type KeyFormatErrorCode } from './key-format.error';
import { parseOpenSshPublicKey } from './openssh-public-key';

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

/** Public JWK members, exactly those RFC 7638 hashes. */
export type PublicJwkMembers =
  | { readonly kty: 'OKP'; readonly crv: 'Ed25519'; readonly x: string }
  | { readonly kty: 'EC'; readonly crv: 'P-256' | 'P-384'; readonly x: string; readonly y: string }
  | { readonly kty: 'RSA'; readonly n: string; readonly e: string };

/** The canonical public JWK: public members plus `alg`, the JWS name of the pinned algorithm. */
export type PublicJwk = PublicJwkMembers & { readonly alg: string };

export interface ParsedPublicKey {
  /** node:crypto public KeyObject, parsed once (always from the canonical JWK members). */
  readonly keyObject: KeyObject;
  /** The pinned algorithm: the requested one, the JWK's `alg`, or the default for the key. */
  readonly algorithm: KeyAlgorithm;
  /** Canonical SPKI PEM, `keyObject.export({ type: 'spki', format: 'pem' })` (uncompressed EC points). */
  readonly spkiPem: string;
  readonly jwk: PublicJwk;
  /** RFC 7638 JWK SHA-256 thumbprint, base64url. */
  readonly thumbprint: string;
  /** Lowercase hex SHA-256 of the spkiPem bytes: the `kid` of the Python asymmetric_jwt_auth package. */
  readonly pemSha256: string;
  readonly keyType: 'ed25519' | 'ec' | 'rsa';
  /** RSA modulus length in bits. */
  readonly bits?: number;
  readonly curve?: 'P-256' | 'P-384';
}

export interface ParsePublicKeyOptions {
  /** Pin this algorithm; refused with KEY_ALGORITHM_MISMATCH when it does not fit the key. */
  readonly algorithm?: KeyAlgorithm;
  /**
   * Smallest RSA modulus in bits (default 2048). Values below 2048 are honoured only
   * when NODE_ENV is 'test' (so tests can use small, fast keys); elsewhere 2048 applies.
   */
  readonly minRsaBits?: number;
}

export type GeneratedKeyType = 'ed25519' | 'p256' | 'p384' | 'rsa';

export interface GeneratedKeyPair {
  /** Unencrypted PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
  readonly algorithm: KeyAlgorithm;
}

const ACCEPTED_FORMATS =
  'Paste one public key as SPKI PEM ("-----BEGIN PUBLIC KEY-----"), PKCS#1 RSA PEM ' +
  '("-----BEGIN RSA PUBLIC KEY-----"), an OpenSSH public key line ("ssh-ed25519 AAAA…"), or a public JWK.';
const SUPPORTED_TYPES = 'Ed25519, ECDSA P-256, ECDSA P-384 or RSA (2048 bits or more)';
const NEW_KEY_HINT =
  'Generate a new key with `keypair-auth keygen --type ed25519 --out <name>` (--type also takes p256, p384, rsa).';

function fail(code: KeyFormatErrorCode, message: string, cause?: unknown): KeyFormatError {
  return new KeyFormatError(code, message, cause === undefined ? undefined : { cause });
}

const invalid = (message: string, cause?: unknown) => fail('KEY_FORMAT_INVALID', message, cause);

/** A short JSON-quoted rendering of a value that is not key material (an alg, kty, crv, label…). */
function quote(value: unknown, max = 32): string {
  if (typeof value !== 'string') return value === null ? 'null' : `a ${typeof value}`;
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

function hasOwn(object: object, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, name);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Converts anything thrown below into a KeyFormatError; node:crypto errors become the cause. */
function asKeyFormatError(error: unknown, message: string): KeyFormatError {
  return error instanceof KeyFormatError ? error : invalid(message, error);
}

// ---------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------

/**
 * Parses a pasted public key (SPKI PEM, PKCS#1 RSA PEM, OpenSSH line, or JWK object or
 * JSON) into one canonical form, and refuses private material, weak or unsupported
 * keys, malformed input and algorithm mismatches. Throws only {@link KeyFormatError}.
 */
export function parsePublicKey(
  input: string | Record<string, unknown>,
  options?: ParsePublicKeyOptions,
): ParsedPublicKey {
  try {
    const policy = readOptions(options);
    if (typeof input === 'string') return parseText(input, policy);
    if (isRecord(input) && !Buffer.isBuffer(input) && !(input instanceof KeyObject)) {
      return fromJwk(input, policy, true);
    }
    throw invalid(
      `Expected the key as a string or a JWK object, got ${describeValueKind(input)}. ${ACCEPTED_FORMATS}`,
    );
  } catch (error) {
    throw asKeyFormatError(error, `The key could not be parsed. ${ACCEPTED_FORMATS}`);
  }
}

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

/**
 * Generates a key pair of a supported type: unencrypted PKCS#8 private PEM, SPKI
 * public PEM and the default algorithm. RSA defaults to 3072 bits (allowed: 2048 to
 * 8192) with exponent 65537.
 */
export function generateKeyPair(type: GeneratedKeyType, rsaBits = 3072): GeneratedKeyPair {
  try {
    let pair: { publicKey: KeyObject; privateKey: KeyObject };
    let algorithm: KeyAlgorithm;
    if (type === 'ed25519') {
      pair = generateKeyPairSync('ed25519');
      algorithm = 'ed25519';
    } else if (type === 'p256' || type === 'p384') {
      pair = generateKeyPairSync('ec', { namedCurve: type === 'p256' ? 'P-256' : 'P-384' });
      algorithm = type === 'p256' ? 'ecdsa-p256-sha256' : 'ecdsa-p384-sha384';
    } else if (type === 'rsa') {
      if (!Number.isSafeInteger(rsaBits) || rsaBits < DEFAULT_MIN_RSA_BITS) {
        throw fail(
          'KEY_TOO_WEAK',
          `RSA keys must be at least ${DEFAULT_MIN_RSA_BITS} bits; ${quote(String(rsaBits))} was asked for.`,
        );
      }
      if (rsaBits > MAX_RSA_BITS) {
        throw fail(
          'KEY_TYPE_UNSUPPORTED',
          `RSA keys over ${MAX_RSA_BITS} bits are not supported; use 3072 or 4096.`,
        );
      }
      pair = generateKeyPairSync('rsa', { modulusLength: rsaBits, publicExponent: 0x10001 });
      algorithm = 'rsa-v1_5-sha256';
    } else {
      throw fail(
        'KEY_TYPE_UNSUPPORTED',
        `Unknown key type ${quote(type)}; use one of ed25519, p256, p384, rsa.`,
      );
    }
    return {
      privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      algorithm,
    };
  } catch (error) {
    throw asKeyFormatError(error, 'The key pair could not be generated.');
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

/**
 * RFC 7638 JWK SHA-256 thumbprint (base64url): SHA-256 over the required members in
 * lexicographic order, as JSON without whitespace. Synchronous; equals jose's
 * calculateJwkThumbprint for the same key.
 */
export function jwkThumbprint(jwk: PublicJwkMembers): string {
  const required =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : jwk.kty === 'EC'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
        : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(required), 'utf8').digest('base64url');
}

// ---------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------

interface Policy {
  readonly algorithm?: KeyAlgorithm;
  readonly minRsaBits: number;
}

function readOptions(options: unknown): Policy {
  if (options === undefined || options === null) return { minRsaBits: DEFAULT_MIN_RSA_BITS };
  if (!isRecord(options)) throw invalid('parsePublicKey options must be an object.');
  const algorithm: unknown = options.algorithm;
  const minRsaBits: unknown = options.minRsaBits;
  if (algorithm !== undefined && !isKeyAlgorithm(algorithm)) {
    throw fail(
      'KEY_ALGORITHM_MISMATCH',
      `Unknown algorithm ${quote(algorithm)}; use one of ${KEY_ALGORITHMS.join(', ')}.`,
    );
  }
  let min = DEFAULT_MIN_RSA_BITS;
  if (minRsaBits !== undefined) {
    if (typeof minRsaBits !== 'number' || !Number.isSafeInteger(minRsaBits) || minRsaBits < 1) {
      throw invalid('minRsaBits must be a positive integer.');
    }
    min =
      minRsaBits >= DEFAULT_MIN_RSA_BITS || process.env.NODE_ENV === 'test'
        ? minRsaBits
        : DEFAULT_MIN_RSA_BITS;
  }
  return algorithm === undefined ? { minRsaBits: min } : { algorithm, minRsaBits: min };
}

function describeValueKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'a Buffer (decode it to a string first)';
  if (value instanceof KeyObject) return 'a KeyObject';
  return `a ${typeof value}`;
}

// ---------------------------------------------------------------------------------
// Text inputs: size, private-key detection, dispatch
// ---------------------------------------------------------------------------------

function assertTextSize(text: string): void {
  if (text.length > MAX_KEY_INPUT_BYTES || Buffer.byteLength(text, 'utf8') > MAX_KEY_INPUT_BYTES) {
    throw invalid(
      `The input is larger than ${MAX_KEY_INPUT_BYTES / 1024} KB; no supported key is that long. ` +
        'Paste only the key itself.',
    );
  }
}

function assertJwkObjectSize(jwk: Record<string, unknown>): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(jwk);
  } catch (cause) {
    throw invalid('The JWK object cannot be serialised as JSON (it has cycles or non-JSON values).', cause);
  }
  if (typeof json !== 'string') throw invalid('The JWK object cannot be serialised as JSON.');
  assertTextSize(json);
}

// Words separated by single spaces: no ambiguous repetition, so no super-linear backtracking.
const PRIVATE_PEM = /-{3,5} ?BEGIN ((?:[A-Z0-9]+ )*?)PRIVATE KEY/i;
const PUTTY_PRIVATE = /PuTTY-User-Key-File-\d+:/;
const NEVER_SHARE = 'Never paste or send a private key; if it has left your machine, replace it.';

function assertNoPrivateText(text: string): void {
  const pem = PRIVATE_PEM.exec(text);
  if (pem !== null) {
    const kind = pem[1].trim().toUpperCase();
    const fix = kind.includes('OPENSSH')
      ? 'Paste the public key instead: the matching .pub file, or the output of `ssh-keygen -y -f <key file>`.'
      : kind.includes('SSH2') || kind.includes('PGP')
        ? 'Paste the public key instead.'
        : 'Paste the public key instead, for example the output of `openssl pkey -in <key file> -pubout`.';
    throw fail('KEY_IS_PRIVATE', `This is a private key. ${NEVER_SHARE} ${fix}`);
  }
  if (PUTTY_PRIVATE.test(text)) {
    throw fail(
      'KEY_IS_PRIVATE',
      `This is a PuTTY private key file. ${NEVER_SHARE} In PuTTYgen, copy the "Public key for pasting ` +
        'into OpenSSH authorized_keys file" instead.',
    );
  }
}

function parseText(raw: string, policy: Policy): ParsedPublicKey {
  assertTextSize(raw);
  const text = raw.replace(/^\uFEFF/, '').trim();
  if (text === '') throw invalid(`The key is empty. ${ACCEPTED_FORMATS}`);
  assertNoPrivateText(text);
  if (text.startsWith('{')) return fromJwk(parseJson(text), policy);
  if (text.startsWith('[')) throw invalid(`A JSON array is not a key. ${ACCEPTED_FORMATS}`);
  if (/-----BEGIN|^-{3,5} ?BEGIN /m.test(text)) return fromPem(text, policy);
  if (looksLikeOpenSsh(text)) return fromOpenSsh(text, policy);
  throw invalid(
    `The input starting with ${describeInputPrefix(text)} is not a recognised public key. ${ACCEPTED_FORMATS}`,
  );
}

function looksLikeOpenSsh(text: string): boolean {
  return (
    /^(ssh|ecdsa|sk|x509v3|rsa)-\S*[ \t]/.test(text) ||
    /^\S+[ \t]+AAAA[A-Za-z0-9+/]/.test(text) ||
    /(^|[ \t])(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+)[ \t]+AAAA/.test(text)
  );
}

function parseJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // No cause: V8's message quotes the input, which may be (broken) private key material.
    throw invalid(`The key looks like JSON but is not valid JSON. ${ACCEPTED_FORMATS}`);
  }
  if (!isRecord(value)) throw invalid(`The JSON is not a JWK object. ${ACCEPTED_FORMATS}`);
  return value;
}

// ---------------------------------------------------------------------------------
// PEM
// ---------------------------------------------------------------------------------

interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

/** Exactly one PEM block, nothing around it, no headers, strict base64 body. */
function parsePemEnvelope(text: string, what: string): PemBlock {
  if (/^-{4} ?BEGIN SSH2 PUBLIC KEY/m.test(text)) {
    throw invalid(
      'This is an SSH2 (RFC 4716, PuTTY) public key. Convert it to an OpenSSH line with ' +
        '`ssh-keygen -i -f <file>` and paste that.',
    );
  }
  if (text.includes('\\n')) {
    throw invalid(
      `The ${what} contains literal "\\n" sequences; it was probably copied from a JSON string or an ` +
        'environment variable. Replace them with real line breaks.',
    );
  }
  const begins = text.match(/-----BEGIN /g)?.length ?? 0;
  const ends = text.match(/-----END /g)?.length ?? 0;
  if (begins > 1 || ends > 1) {
    throw invalid(`The input contains ${Math.max(begins, ends)} PEM blocks; paste exactly one ${what}.`);
  }
  if (!text.startsWith('-----BEGIN ')) {
    throw invalid(`There is text before the "-----BEGIN" line; paste only the ${what} PEM block.`);
  }
  const match = /^-----BEGIN ([A-Z0-9 ]{1,40})-----([\s\S]*?)-----END ([A-Z0-9 ]{1,40})-----$/.exec(text);
  if (match === null) {
    throw invalid(
      ends === 0
        ? `The PEM block has no matching "-----END" line; paste the whole ${what}.`
        : `The PEM block is malformed or has text after the "-----END" line; paste only the ${what} PEM block.`,
    );
  }
  const [, label, body, endLabel] = match;
  if (label !== endLabel) {
    throw invalid(
      `The PEM block begins with "${label}" but ends with "${endLabel}"; paste one complete block.`,
    );
  }
  if (/Proc-Type:|DEK-Info:/.test(body)) {
    throw invalid(
      'Legacy PEM encryption ("Proc-Type: 4,ENCRYPTED") is not supported. Convert the key to encrypted ' +
        'PKCS#8 with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in <key file> -out <new file>`.',
    );
  }
  const base64 = body.replace(/[ \t\r\n]+/g, '');
  if (
    !/^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/.test(
      base64,
    )
  ) {
    throw invalid(`The body of the "${label}" PEM block is not valid base64; paste the block unmodified.`);
  }
  const der = Buffer.from(base64, 'base64');
  if (der.toString('base64') !== base64) {
    throw invalid(
      `The body of the "${label}" PEM block is not canonical base64; paste the block unmodified.`,
    );
  }
  assertSingleDerSequence(der, label);
  return { label, der };
}

/** The DER must be one SEQUENCE with a minimal length that spans the whole buffer. */
function assertSingleDerSequence(der: Buffer, label: string): void {
  const bad = (why: string) =>
    invalid(`The "${label}" PEM block is not valid DER: ${why}. Paste the block unmodified.`);
  if (der.length < 2 || der[0] !== 0x30) throw bad('it does not start with a SEQUENCE');
  let length = der[1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3) throw bad('unsupported length encoding');
    if (der.length < 2 + count) throw bad('it is truncated');
    if (der[2] === 0) throw bad('non-minimal length');
    length = der.readUIntBE(2, count);
    if (length < 0x80) throw bad('non-minimal length');
    header = 2 + count;
  }
  if (header + length > der.length) throw bad('it is truncated');
  if (header + length < der.length)
    throw bad(`${der.length - header - length} trailing byte(s) after the key`);
}

function fromPem(text: string, policy: Policy): ParsedPublicKey {
  const { label, der } = parsePemEnvelope(text, 'public key');
  let type: 'spki' | 'pkcs1';
  if (label === 'PUBLIC KEY') type = 'spki';
  else if (label === 'RSA PUBLIC KEY') type = 'pkcs1';
  else if (label === 'CERTIFICATE' || label === 'X509 CERTIFICATE' || label === 'TRUSTED CERTIFICATE') {
    throw invalid(
      'This is a certificate, not a public key. Extract its public key with ' +
        '`openssl x509 -in <cert file> -pubkey -noout` and paste that.',
    );
  } else {
    throw invalid(`A "${label}" PEM block is not a public key. ${ACCEPTED_FORMATS}`);
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: der, format: 'der', type });
  } catch (cause) {
    throw invalid(`The "${label}" PEM block does not hold a valid public key. ${ACCEPTED_FORMATS}`, cause);
  }
  return finish(membersFromKeyObject(keyObject), undefined, policy);
}

/** JWK members of a KeyObject parsed from DER, after checking its type and curve. */
function membersFromKeyObject(key: KeyObject): PublicJwkMembers {
  const type = key.asymmetricKeyType;
  if (type === 'rsa-pss') {
    throw fail(
      'KEY_TYPE_UNSUPPORTED',
      'RSA-PSS-restricted keys (OID id-RSASSA-PSS) are not accepted. Paste the same key as a plain RSA ' +
        'public key ("rsaEncryption") and choose the algorithm rsa-pss-sha512 when registering it.',
    );
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1' && curve !== 'secp384r1') {
      throw fail(
        'KEY_TYPE_UNSUPPORTED',
        `EC keys on ${curve === undefined ? 'explicit or unknown curve parameters' : `curve ${quote(curve)}`} ` +
          `are not supported; use P-256 or P-384. ${NEW_KEY_HINT}`,
      );
    }
  }
  if (type !== 'ed25519' && type !== 'ec' && type !== 'rsa') {
    throw fail(
      'KEY_TYPE_UNSUPPORTED',
      `${unsupportedTypeName(type)} keys are not supported; use ${SUPPORTED_TYPES}. ${NEW_KEY_HINT}`,
    );
  }
  const jwk = key.export({ format: 'jwk' });
  if (type === 'ed25519') return { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) };
  if (type === 'rsa') return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e) };
  return { kty: 'EC', crv: jwk.crv === 'P-384' ? 'P-384' : 'P-256', x: String(jwk.x), y: String(jwk.y) };
}

function unsupportedTypeName(type: string | undefined): string {
  const names: Record<string, string> = {
    ed448: 'Ed448',
    x25519: 'X25519 (key agreement)',
    x448: 'X448 (key agreement)',
    dsa: 'DSA',
    dh: 'Diffie-Hellman',
  };
  return type !== undefined && hasOwn(names, type) ? names[type] : `${quote(type ?? 'unknown')} type`;
}

// ---------------------------------------------------------------------------------
// OpenSSH
// ---------------------------------------------------------------------------------

function fromOpenSsh(text: string, policy: Policy): ParsedPublicKey {
  return finish(parseOpenSshPublicKey(text).jwk, undefined, policy);
}

// ---------------------------------------------------------------------------------
// JWK
// ---------------------------------------------------------------------------------

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
/** Registered in IANA "JSON Web Key Elliptic Curve" but not supported here. */
const UNSUPPORTED_CURVES: Readonly<Record<string, string>> = {
  'P-521': 'EC',
  secp256k1: 'EC',
  Ed448: 'OKP',
  X25519: 'OKP',
  X448: 'OKP',
};

const JWK_MEMBERS_READ = [
  'kty',
  'crv',
  'x',
  'y',
  'n',
  'e',
  'alg',
  'use',
  'key_ops',
  'keys',
  ...PRIVATE_JWK_MEMBERS,
];

/**
 * `fromObject`: the JWK came in as an object (not JSON text), so its size has not been
 * checked yet; that is done after the private-material check, so a private JWK is always
 * reported as such.
 */
function fromJwk(jwk: Record<string, unknown>, policy: Policy, fromObject = false): ParsedPublicKey {
  // Read every member once, own properties only: getters, proxies and prototypes must not
  // change the answer between two checks.
  const snapshot = new Map<string, unknown>();
  for (const name of JWK_MEMBERS_READ) if (hasOwn(jwk, name)) snapshot.set(name, jwk[name]);
  const get = (name: string): unknown => snapshot.get(name);
  const present = (name: string): boolean => snapshot.has(name);
  const kty = get('kty');

  const privateMembers = PRIVATE_JWK_MEMBERS.filter(present);
  if (kty === 'oct' || privateMembers.length > 0) {
    throw fail(
      'KEY_IS_PRIVATE',
      kty === 'oct' || privateMembers.includes('k')
        ? `This JWK is a symmetric (shared-secret) key, not a public key. ${NEVER_SHARE} Register an ` +
            `asymmetric public key instead. ${NEW_KEY_HINT}`
        : `This JWK contains private key members (${privateMembers.map((m) => `"${m}"`).join(', ')}). ` +
            `${NEVER_SHARE} Send only the public members (kty, crv, x, y for EC/OKP; kty, n, e for RSA).`,
    );
  }
  const keys = get('keys');
  if (kty === undefined && Array.isArray(keys)) {
    if (keys.some((k) => isRecord(k) && (k.kty === 'oct' || PRIVATE_JWK_MEMBERS.some((m) => hasOwn(k, m))))) {
      throw fail('KEY_IS_PRIVATE', `This JWK Set contains private or secret keys. ${NEVER_SHARE}`);
    }
    throw invalid('This is a JWK Set; paste a single key from its "keys" array.');
  }
  if (fromObject) assertJwkObjectSize(jwk);
  if (typeof kty !== 'string') {
    throw invalid(`The JWK has no string "kty" member. ${ACCEPTED_FORMATS}`);
  }

  const crv = get('crv');
  let members: PublicJwkMembers;
  if (kty === 'OKP' || kty === 'EC') {
    if (typeof crv !== 'string') throw invalid(`The ${kty} JWK has no string "crv" member.`);
    if (hasOwn(UNSUPPORTED_CURVES, crv) && UNSUPPORTED_CURVES[crv] === kty) {
      throw fail(
        'KEY_TYPE_UNSUPPORTED',
        `JWK curve "${crv}" is not supported; use ${SUPPORTED_TYPES}. ${NEW_KEY_HINT}`,
      );
    }
    if (kty === 'OKP') {
      if (crv !== 'Ed25519')
        throw invalid(`Unknown OKP curve ${quote(crv)} in the JWK; the supported one is Ed25519.`);
      members = { kty, crv, x: base64urlMember(get('x'), 'x', 32) };
    } else {
      if (crv !== 'P-256' && crv !== 'P-384') {
        throw invalid(`Unknown EC curve ${quote(crv)} in the JWK; the supported ones are P-256 and P-384.`);
      }
      const size = crv === 'P-256' ? 32 : 48;
      members = {
        kty,
        crv,
        x: base64urlMember(get('x'), 'x', size),
        y: base64urlMember(get('y'), 'y', size),
      };
    }
  } else if (kty === 'RSA') {
    members = { kty, n: base64urlMember(get('n'), 'n'), e: base64urlMember(get('e'), 'e') };
  } else if (kty === 'AKP') {
    throw fail(
      'KEY_TYPE_UNSUPPORTED',
      `Post-quantum (AKP) JWKs are not supported yet; use ${SUPPORTED_TYPES}.`,
    );
  } else {
    throw invalid(
      `Unknown JWK key type (kty) ${quote(kty)}; the supported ones are OKP (Ed25519), EC and RSA.`,
    );
  }

  if (present('use') && get('use') !== 'sig') {
    throw fail(
      'KEY_ALGORITHM_MISMATCH',
      `The JWK has "use": ${quote(get('use'))}; a key for verifying signatures must have "use": "sig" ` +
        'or no "use" member.',
    );
  }
  if (present('key_ops')) {
    const ops = get('key_ops');
    if (!Array.isArray(ops) || !ops.every((op) => typeof op === 'string') || !ops.includes('verify')) {
      throw fail(
        'KEY_ALGORITHM_MISMATCH',
        'The JWK\'s "key_ops" does not include "verify"; a key for verifying signatures needs ' +
          '"key_ops": ["verify"] or no "key_ops" member.',
      );
    }
  }
  const alg = present('alg') ? get('alg') : undefined;
  if (present('alg') && typeof alg !== 'string') {
    throw fail(
      'KEY_ALGORITHM_MISMATCH',
      'The JWK\'s "alg" member must be a string such as "EdDSA", "ES256" or "RS256".',
    );
  }
  return finish(members, alg as string | undefined, policy);
}

/**
 * A base64url JWK member, strictly: no padding, only the URL-safe alphabet, canonical
 * trailing bits, the exact length where one is required (RFC 7518 §6.2.1.2), and no
 * leading zero octet for RSA integers (RFC 7518 §6.3.1).
 */
function base64urlMember(value: unknown, name: string, exactLength?: number): string {
  if (typeof value !== 'string' || value === '') {
    throw invalid(`The JWK member "${name}" is missing or not a string.`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(value) || value.length % 4 === 1) {
    throw invalid(`The JWK member "${name}" is not valid base64url (no padding, alphabet A-Z a-z 0-9 - _).`);
  }
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.toString('base64url') !== value) {
    throw invalid(`The JWK member "${name}" is not canonical base64url.`);
  }
  if (exactLength !== undefined && bytes.length !== exactLength) {
    throw invalid(`The JWK member "${name}" must be ${exactLength} bytes; it is ${bytes.length}.`);
  }
  if (exactLength === undefined && bytes[0] === 0) {
    throw invalid(
      `The JWK member "${name}" has a leading zero byte; RSA integers must use the minimum length.`,
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------
// Common checks, canonical form
// ---------------------------------------------------------------------------------

function bitLength(bytes: Buffer): number {
  return bytes.length === 0 ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(bytes[0]));
}

function checkRsa(members: { n: string; e: string }, policy: Policy): number {
  const n = Buffer.from(members.n, 'base64url');
  const e = Buffer.from(members.e, 'base64url');
  const bits = bitLength(n);
  if (bits > MAX_RSA_BITS) {
    throw fail(
      'KEY_TYPE_UNSUPPORTED',
      `RSA keys over ${MAX_RSA_BITS} bits are not supported (each verification would cost the server ` +
        `too much); this one has ${bits}. ${rsaHint()}`,
    );
  }
  if ((n[n.length - 1] & 1) === 0) throw invalid('The RSA modulus is even, so this is not a valid RSA key.');
  const exponent = e.length === 0 ? 0n : BigInt(`0x${e.toString('hex')}`);
  if (exponent < 3n || (exponent & 1n) === 0n) {
    throw fail(
      'KEY_TOO_WEAK',
      `The RSA public exponent must be odd and at least 3 (normally 65537); this key's is ` +
        `${exponent < 3n ? String(exponent) : 'even'}. ${rsaHint()}`,
    );
  }
  if (exponent > MAX_RSA_PUBLIC_EXPONENT) {
    throw fail(
      'KEY_TOO_WEAK',
      `The RSA public exponent is ${e.length * 8 > 64 ? 'over 64 bits' : 'above 2^32 - 1'}; only exponents up to ` +
        `2^32 - 1 are accepted (normally 65537). ${rsaHint()}`,
    );
  }
  if (bits < policy.minRsaBits) {
    throw fail(
      'KEY_TOO_WEAK',
      `RSA keys must be at least ${policy.minRsaBits} bits; this one has ${bits}. ${rsaHint()}`,
    );
  }
  return bits;
}

function rsaHint(): string {
  return 'Generate a new key with `keypair-auth keygen --type rsa --out <name>` (or --type ed25519).';
}

function finish(members: PublicJwkMembers, jwkAlg: string | undefined, policy: Policy): ParsedPublicKey {
  let bits: number | undefined;
  if (members.kty === 'OKP') checkEd25519Point(Buffer.from(members.x, 'base64url'));
  if (members.kty === 'RSA') bits = checkRsa(members, policy);

  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: { ...members }, format: 'jwk' });
  } catch (cause) {
    throw invalid(
      members.kty === 'EC'
        ? `The ${members.crv} public key is not a valid point on the curve. Paste the key unmodified.`
        : 'The public key is not valid. Paste the key unmodified.',
      cause,
    );
  }
  const algorithm = resolveAlgorithm(keyObject, members, policy.algorithm, jwkAlg);
  const spkiPem = keyObject.export({ type: 'spki', format: 'pem' }).toString();
  const jwk: PublicJwk = Object.freeze({ ...members, alg: jwsAlgorithmOf(algorithm) });
  const keyType = members.kty === 'OKP' ? 'ed25519' : members.kty === 'EC' ? 'ec' : 'rsa';
  return Object.freeze({
    keyObject,
    algorithm,
    spkiPem,
    jwk,
    thumbprint: jwkThumbprint(members),
    pemSha256: createHash('sha256').update(spkiPem, 'utf8').digest('hex'),
    keyType,
    ...(bits === undefined ? {} : { bits }),
    ...(members.kty === 'EC' ? { curve: members.crv } : {}),
  });
}

function describeKey(members: PublicJwkMembers): string {
  if (members.kty === 'OKP') return 'an Ed25519 key';
  if (members.kty === 'EC') return `a ${members.crv} EC key`;
  return `a ${bitLength(Buffer.from(members.n, 'base64url'))}-bit RSA key`;
}

function resolveAlgorithm(
  key: KeyObject,
  members: PublicJwkMembers,
  requested: KeyAlgorithm | undefined,
  jwkAlg: string | undefined,
): KeyAlgorithm {
  const fitting = KEY_ALGORITHMS.filter((a) => keyMatchesAlgorithm(key, a));
  const fittingList = `${fitting.join(', ')} (JWS ${fitting.map(jwsAlgorithmOf).join(', ')})`;
  let fromJwk: KeyAlgorithm | undefined;
  if (jwkAlg !== undefined) {
    fromJwk = keyAlgorithmFromJws(jwkAlg);
    if (fromJwk === undefined) {
      throw fail(
        'KEY_ALGORITHM_MISMATCH',
        `The JWK's "alg" ${quote(jwkAlg)} is not an accepted signature algorithm; for ${describeKey(members)} ` +
          `use ${fitting.map(jwsAlgorithmOf).join(' or ')}, or remove "alg".`,
      );
    }
    if (requested !== undefined && requested !== fromJwk) {
      throw fail(
        'KEY_ALGORITHM_MISMATCH',
        `The JWK says "alg": ${quote(jwkAlg)} but algorithm "${requested}" was requested; make them agree ` +
          `(JWS ${jwsAlgorithmOf(requested)}) or remove "alg" from the JWK.`,
      );
    }
  }
  const algorithm = requested ?? fromJwk ?? defaultAlgorithmFor(key);
  if (algorithm === undefined) {
    throw fail(
      'KEY_TYPE_UNSUPPORTED',
      `No supported algorithm fits ${describeKey(members)}; use ${SUPPORTED_TYPES}.`,
    );
  }
  if (!keyMatchesAlgorithm(key, algorithm)) {
    const source = requested !== undefined ? `Algorithm "${algorithm}"` : `The JWK's "alg" ${quote(jwkAlg)}`;
    throw fail(
      'KEY_ALGORITHM_MISMATCH',
      `${source} does not fit ${describeKey(members)}; use ${fittingList}.`,
    );
  }
  return algorithm;
}

// ---------------------------------------------------------------------------------
// Ed25519 point validation (node:crypto accepts any 32 bytes as an Ed25519 public key)
// ---------------------------------------------------------------------------------

const P = 2n ** 255n - 19n;
const mod = (a: bigint): bigint => ((a % P) + P) % P;
function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}
const inverse = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inverse(121666n));
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/**
 * Refuses encodings that are not a point on edwards25519 (RFC 8032 §5.1.3, including
 * non-canonical y >= p and "negative zero" x), and points of small order, for which
 * signatures can be forged without a private key.
 */
function checkEd25519Point(encoded: Buffer): void {
  const bytes = Buffer.from(encoded);
  const sign = bytes[31] >> 7;
  bytes[31] &= 0x7f;
  const y = BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
  const notAPoint = () =>
    invalid('The Ed25519 public key is not a valid curve point. Paste the key unmodified.');
  if (y >= P) throw notAPoint();
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  const v3 = (v * v * v) % P;
  let x = (u * v3 * pow(u * v3 * v3 * v, (P - 5n) / 8n)) % P;
  const vx2 = (v * x * x) % P;
  if (vx2 !== u) {
    if (vx2 !== mod(-u)) throw notAPoint();
    x = (x * SQRT_M1) % P;
  }
  if (x === 0n && sign === 1) throw notAPoint();
  if (Number(x & 1n) !== sign) x = P - x;
  // [8]P == identity  <=>  P has small order.
  let px = x;
  let py = y;
  for (let i = 0; i < 3; i++) {
    const xx = (px * px) % P;
    const yy = (py * py) % P;
    const dxxyy = (D * xx * yy) % P;
    const nx = (2n * px * py * inverse(1n + dxxyy)) % P;
    const ny = (mod(yy + xx) * inverse(mod(1n - dxxyy))) % P;
    px = nx;
    py = ny;
  }
  if (px === 0n && py === 1n) {
    throw fail(
      'KEY_TOO_WEAK',
      `This Ed25519 public key is a small-order point, which anyone can forge signatures for. ${NEW_KEY_HINT}`,
    );
  }
}

// ---------------------------------------------------------------------------------
// Private keys
// ---------------------------------------------------------------------------------

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
