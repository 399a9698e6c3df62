/**
 * parsePublicKey: one pasted public key, in any accepted format, to one canonical form.
 * Each format has its own file (pem-public-key, openssh-public-key, jwk-public-key); this
 * one detects the format, refuses private material, and applies the checks every key
 * gets: RSA size and exponent, the Ed25519 point, the algorithm the key is pinned to.
 */
import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import {
  defaultAlgorithmFor,
  isKeyAlgorithm,
  jwsAlgorithmOf,
  KEY_ALGORITHMS,
  keyAlgorithmFromJws,
  keyMatchesAlgorithm,
  type KeyAlgorithm,
} from '../key-algorithm';
import { checkEd25519Point } from './ed25519-point';
import {
  ACCEPTED_FORMATS,
  asKeyFormatError,
  assertTextSize,
  describeValueKind,
  fail,
  invalid,
  isRecord,
  NEVER_SHARE,
  PUTTY_PRIVATE,
  quote,
  SUPPORTED_TYPES,
} from './format-checks';
import { describeInputPrefix } from './key-format.error';
import { DEFAULT_MIN_RSA_BITS, MAX_RSA_BITS, MAX_RSA_PUBLIC_EXPONENT } from './key-limits';
import { jwkThumbprint, membersFromJwk } from './jwk-public-key';
import { parseOpenSshPublicKey } from './openssh-public-key';
import { membersFromPem } from './pem-public-key';
import { weakRsaModulus, type WeakModulus } from './rsa-modulus-checks';
import type { ParsedPublicKey, ParsePublicKeyOptions, PublicJwk, PublicJwkMembers } from './public-key.types';

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

// Words separated by single spaces: no ambiguous repetition, so no super-linear backtracking.
const PRIVATE_PEM = /-{3,5} ?BEGIN ((?:[A-Z0-9]+ )*?)PRIVATE KEY/i;

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
  if (/-----BEGIN|^-{3,5} ?BEGIN /m.test(text)) return finish(membersFromPem(text), undefined, policy);
  if (looksLikeOpenSsh(text)) return finish(parseOpenSshPublicKey(text).jwk, undefined, policy);
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

function fromJwk(jwk: Record<string, unknown>, policy: Policy, fromObject = false): ParsedPublicKey {
  const { members, alg } = membersFromJwk(jwk, fromObject);
  return finish(members, alg, policy);
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
  const weak = weakRsaModulus(BigInt(`0x${n.toString('hex')}`));
  if (weak !== undefined) {
    throw fail(
      'KEY_TOO_WEAK',
      `This RSA modulus can be factored from the public key alone (${WEAK_MODULUS_REASONS[weak]}), so anyone ` +
        `could sign as its owner. It was not made by a sound key generator. ${rsaHint()}`,
    );
  }
  return bits;
}

const WEAK_MODULUS_REASONS: Record<WeakModulus, string> = {
  prime: 'it is a prime, not a product of two primes',
  square: 'it is the square of a prime',
  'prime-power': 'it is a power of a prime',
  'small-factor': 'it has a small prime factor',
  'close-primes': 'its two primes are so close that Fermat factorisation finds them',
};

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
