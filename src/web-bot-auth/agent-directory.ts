import {
  buildSignatureBase,
  getFieldValue,
  parseRfc9421,
  verifyContentDigest,
  type HttpMessageView,
  type Rfc9421Signature,
} from '../http-signatures';
import { authError } from '../errors/keypair-auth.exception';
import { isKeyAlgorithm, type KeyAlgorithm, verifyWithAlgorithm } from '../keys/key-algorithm';
import { PRIVATE_JWK_MEMBERS } from '../keys/formats/jwk-public-key';

/**
 * Private JWK members of every key type, including those this module does not verify with:
 * `priv` and `seed` of the AKP (ML-DSA) keys, which a directory may list too.
 */
const PRIVATE_MEMBERS: readonly string[] = [...PRIVATE_JWK_MEMBERS, 'priv', 'seed'];
import { parsePublicKey } from '../keys/formats/public-key-parser';
import { jwkThumbprint } from '../keys/jwk-thumbprint';
import type { DirectoryKey } from './directory-key';
import type { FetchedDirectory } from './directory-fetcher';
import {
  DIRECTORY_PATH,
  DIRECTORY_SIGNATURE_TAG,
  type ResolvedDirectoryOptions,
} from './web-bot-auth-options';

/**
 * Thumbprints of the keys whose PRIVATE halves RFC 9421 Appendix B publishes (B.1.1 RSA,
 * B.1.2 RSA-PSS, B.1.3 P-256, B.1.4 Ed25519): anyone can sign with them, so a directory that
 * lists one is not believed for it (draft-ietf-webbotauth-httpsig-protocol-01 §"Test and
 * Demonstration Keys" names the Ed25519 and RSA-PSS ones; the other two are just as public).
 */
const PUBLISHED_TEST_KEYS: ReadonlyMap<string, string> = new Map([
  ['poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U', 'RFC 9421 B.1.4 test-key-ed25519'],
  ['oD0HwocPBSfpNy5W3bpJeyFGY_IQ_YpqxSjQ3Yd-CLA', 'RFC 9421 B.1.2 test-key-rsa-pss'],
  ['BHj8s0GPnMEQtkaULIM-PLgEhLBbuGUQ1vMxmBWZzEo', 'RFC 9421 B.1.1 test-key-rsa'],
  ['ydQXMtvbsOsZyFir-Y7A8t7fKEM1gbKPvyFkdpu4fvI', 'RFC 9421 B.1.3 test-key-ecc-p256'],
]);

/** A directory signature may be dated this far ahead of our clock (seconds). */
const CLOCK_SKEW_SECONDS = 60;

/** Called with the reason a key or a signature of a directory is ignored (for the log). */
export type DirectorySkipLogger = (reason: string) => void;

/**
 * Reads a fetched key directory (draft-ietf-webbotauth-httpsig-protocol-01 §"Key Directory")
 * into its usable keys by RFC 7638 thumbprint, and checks the directory's own response
 * signatures (docs/SECURITY.md G90–G91).
 *
 * Refused as a whole: not a JSON object with a `keys` array, or more than maxKeys keys, or any
 * key with a private member (WEB_BOT_AUTH_DIRECTORY_INVALID: a host that publishes private
 * keys is not a key authority); a directory signature that does not verify, or, with
 * signatures 'require', a kept key without one (WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID).
 * Skipped, with a reason for `skipped`: a key with `use` other than "sig", an unsupported type,
 * curve or RSA `alg`, a `kid` other than its thumbprint, a key too weak for parsePublicKey,
 * and the published RFC 9421 test keys.
 */
export function parseDirectory(
  fetched: FetchedDirectory,
  options: ResolvedDirectoryOptions,
  now: number,
  skipped: DirectorySkipLogger = () => undefined,
): Map<string, DirectoryKey> {
  const where = `the directory of ${fetched.authority}`;
  const entries = readKeys(fetched.body, options.maxKeys, where);
  const keys = new Map<string, DirectoryKey>();
  // Thumbprints of every entry, kept or not, and the kid of any entry: a signature by a key we
  // skip (of a type we cannot even take a thumbprint of, such as ML-DSA) is not a forgery.
  const listed = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    const result = readKey(entry);
    if (result.thumbprint !== undefined) listed.add(result.thumbprint);
    if (result.key === undefined && typeof entry.kid === 'string') listed.add(entry.kid);
    if (result.key === undefined) {
      skipped(`${where}: key #${index} skipped: ${result.reason}`);
      continue;
    }
    if (keys.has(result.key.thumbprint)) {
      skipped(`${where}: key #${index} skipped: it repeats key ${result.key.thumbprint}`);
      continue;
    }
    keys.set(result.key.thumbprint, result.key);
  }
  checkSignatures(fetched, options, now, keys, listed, where, skipped);
  return keys;
}

function readKeys(body: Buffer, maxKeys: number, where: string): Record<string, unknown>[] {
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body));
  } catch {
    throw authError('WEB_BOT_AUTH_DIRECTORY_INVALID', `${where} is not UTF-8 JSON`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw authError('WEB_BOT_AUTH_DIRECTORY_INVALID', `${where} is not a JSON object (a JWK Set)`);
  }
  const keys = (document as Record<string, unknown>).keys;
  if (!Array.isArray(keys)) {
    throw authError('WEB_BOT_AUTH_DIRECTORY_INVALID', `${where} has no "keys" array`);
  }
  if (keys.length > maxKeys) {
    throw authError(
      'WEB_BOT_AUTH_DIRECTORY_INVALID',
      `${where} lists ${keys.length} keys, over directory.maxKeys (${maxKeys})`,
    );
  }
  for (const [index, key] of keys.entries()) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) {
      throw authError('WEB_BOT_AUTH_DIRECTORY_INVALID', `${where}: key #${index} is not a JSON object`);
    }
    const members = PRIVATE_MEMBERS.filter((m) => Object.prototype.hasOwnProperty.call(key, m));
    if (members.length > 0) {
      throw authError(
        'WEB_BOT_AUTH_DIRECTORY_INVALID',
        `${where}: key #${index} has private members (${members.join(', ')}); the agent published private ` +
          'key material and must replace the key',
      );
    }
  }
  return keys as Record<string, unknown>[];
}

type KeyResult =
  | { key: DirectoryKey; thumbprint: string; reason?: undefined }
  | { key?: undefined; thumbprint?: string; reason: string };

/** The one algorithm a directory JWK verifies, or why it has none. */
function algorithmOf(jwk: Record<string, unknown>): KeyAlgorithm | string {
  const { kty, crv, alg } = jwk;
  const fits = (names: readonly unknown[], algorithm: KeyAlgorithm): KeyAlgorithm | string =>
    alg === undefined || names.includes(alg)
      ? algorithm
      : `its "alg" ${JSON.stringify(alg)} does not fit ${kty}/${String(crv)}`;
  if (kty === 'OKP' && crv === 'Ed25519') return fits(['EdDSA', 'Ed25519', 'ed25519'], 'ed25519');
  if (kty === 'EC' && crv === 'P-256') return fits(['ES256', 'ecdsa-p256-sha256'], 'ecdsa-p256-sha256');
  if (kty === 'EC' && crv === 'P-384') return fits(['ES384', 'ecdsa-p384-sha384'], 'ecdsa-p384-sha384');
  if (kty === 'RSA') {
    // An RSA key can sign several ways; the directory must say which (Cloudflare writes the
    // RFC 9421 name, JOSE tools the JWS one).
    if (alg === 'PS512' || alg === 'rsa-pss-sha512') return 'rsa-pss-sha512';
    if (alg === 'RS256' || alg === 'rsa-v1_5-sha256') return 'rsa-v1_5-sha256';
    return `an RSA key needs "alg" PS512 (rsa-pss-sha512) or RS256 (rsa-v1_5-sha256), not ${JSON.stringify(alg ?? '(none)')}`;
  }
  return `unsupported key type ${JSON.stringify(kty)}${crv === undefined ? '' : `/${JSON.stringify(crv)}`} (supported: Ed25519, P-256, P-384, RSA)`;
}

function readKey(jwk: Record<string, unknown>): KeyResult {
  let thumbprint: string;
  try {
    thumbprint = jwkThumbprint(jwk);
  } catch (error) {
    return { reason: (error as Error).message };
  }
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    return { thumbprint, reason: `${thumbprint} has "use" ${JSON.stringify(jwk.use)}, not "sig"` };
  }
  if (jwk.kid !== undefined && jwk.kid !== thumbprint) {
    return {
      thumbprint,
      reason: `its "kid" ${JSON.stringify(jwk.kid)} is not its RFC 7638 thumbprint ${thumbprint}`,
    };
  }
  const published = PUBLISHED_TEST_KEYS.get(thumbprint);
  if (published !== undefined) {
    return { thumbprint, reason: `${thumbprint} is the ${published}, whose private key is public` };
  }
  const algorithm = algorithmOf(jwk);
  if (!isKeyAlgorithm(algorithm)) return { thumbprint, reason: `${thumbprint}: ${algorithm}` };
  const notBefore = timestamp(jwk.nbf);
  const expiresAt = timestamp(jwk.exp);
  if (notBefore === undefined || expiresAt === undefined) {
    return {
      thumbprint,
      reason: `${thumbprint}: "nbf" and "exp" must be seconds since the epoch, up to the year 9999`,
    };
  }
  // Only the public members (and use/key_ops, which it checks), so that the JWK's own `alg`
  // in Cloudflare's RFC 9421 spelling does not trip the JOSE-name check: the algorithm was
  // settled above and is pinned here. parsePublicKey applies the strength rules every key
  // gets (RSA size and exponent, the Ed25519 point, EC points on the curve).
  const members: Record<string, unknown> = {};
  for (const name of ['kty', 'crv', 'x', 'y', 'n', 'e', 'use', 'key_ops']) {
    if (Object.prototype.hasOwnProperty.call(jwk, name)) members[name] = jwk[name];
  }
  let parsed;
  try {
    parsed = parsePublicKey(members, { algorithm });
  } catch (error) {
    return { thumbprint, reason: `${thumbprint}: ${(error as Error).message}` };
  }
  return {
    thumbprint,
    key: Object.freeze({ thumbprint, algorithm, keyObject: parsed.keyObject, notBefore, expiresAt }),
  };
}

/** Year 9999 in seconds: a later (or negative) nbf/exp is no date a key can have. */
const LAST_TIMESTAMP = 253_402_300_799;

/** A JWK nbf/exp in seconds as ms; null when absent, undefined when not a date from 1970 to 9999. */
function timestamp(value: unknown): number | null | undefined {
  if (value === undefined) return null;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= LAST_TIMESTAMP
    ? value * 1000
    : undefined;
}

function invalidSignature(where: string, what: string): Error {
  return authError('WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID', `${where}: ${what}`);
}

/**
 * The directory's response signatures (tag http-message-signatures-directory). Each must
 * verify, bound to this fetch by "@authority";req; with signatures 'require' every kept key
 * must have one. Our directory signs ("@authority";req "content-digest") as the draft asks;
 * Cloudflare's directoryResponseHeaders signs ("@authority";req) only, which is accepted
 * (the digest is checked whenever it is covered).
 */
function checkSignatures(
  fetched: FetchedDirectory,
  options: ResolvedDirectoryOptions,
  now: number,
  keys: ReadonlyMap<string, DirectoryKey>,
  listed: ReadonlySet<string>,
  where: string,
  skipped: DirectorySkipLogger,
): void {
  const view: HttpMessageView = { status: 200, rawHeaders: fetched.rawHeaders };
  // The request this response answers, as we sent it: its authority is the URL's, never
  // anything the response says.
  const related: HttpMessageView = {
    method: 'GET',
    scheme: 'https',
    authority: fetched.authority,
    target: DIRECTORY_PATH,
    rawHeaders: [],
  };
  let signatures: Rfc9421Signature[];
  try {
    signatures = parseRfc9421(view, {
      maxSignatures: Math.max(8, options.maxKeys),
      maxHeaderLength: 8192 + options.maxKeys * 2048,
    });
  } catch (error) {
    throw invalidSignature(where, `its Signature-Input/Signature do not parse (${(error as Error).message})`);
  }
  const signed = new Set<string>();
  const nowSeconds = Math.floor(now / 1000);
  for (const sig of signatures) {
    if (sig.params.tag !== DIRECTORY_SIGNATURE_TAG) continue;
    const label = `signature ${JSON.stringify(sig.label)}`;
    const keyid = sig.params.keyid;
    const key = keyid === undefined ? undefined : keys.get(keyid);
    if (keyid !== undefined && key === undefined && listed.has(keyid)) {
      skipped(`${where}: ${label} ignored: it is by key ${keyid}, which was skipped`);
      continue;
    }
    if (key === undefined) {
      throw invalidSignature(
        where,
        `${label} names keyid ${JSON.stringify(keyid)}, which the directory does not list`,
      );
    }
    if (sig.params.alg !== undefined && sig.params.alg !== key.algorithm) {
      throw invalidSignature(
        where,
        `${label} says alg ${JSON.stringify(sig.params.alg)}, key ${keyid} is ${key.algorithm}`,
      );
    }
    if (!sig.components.some((c) => c.identifier === '"@authority";req')) {
      throw invalidSignature(
        where,
        `${label} does not cover "@authority";req, so it is not bound to this host`,
      );
    }
    const { created, expires } = sig.params;
    if (created === undefined || expires === undefined) {
      throw invalidSignature(where, `${label} lacks created or expires`);
    }
    if (created > nowSeconds + CLOCK_SKEW_SECONDS) {
      throw invalidSignature(where, `${label} is dated ${created - nowSeconds} s in the future`);
    }
    if (expires < nowSeconds) {
      throw invalidSignature(where, `${label} expired ${nowSeconds - expires} s ago`);
    }
    let base: Buffer;
    try {
      if (sig.components.some((c) => c.name === 'content-digest' && c.params.req !== true)) {
        verifyContentDigest(getFieldValue(view, 'content-digest') ?? '', fetched.body);
      }
      base = buildSignatureBase(view, sig, related);
    } catch (error) {
      throw invalidSignature(where, `${label}: ${(error as Error).message}`);
    }
    if (!verifyWithAlgorithm(key.algorithm, key.keyObject, base, sig.signature)) {
      throw invalidSignature(where, `${label} by key ${keyid} does not verify`);
    }
    signed.add(key.thumbprint);
  }
  if (options.signatures === 'require') {
    for (const thumbprint of keys.keys()) {
      if (!signed.has(thumbprint)) {
        throw invalidSignature(
          where,
          `key ${thumbprint} carries no verifying signature tagged ${DIRECTORY_SIGNATURE_TAG}, which ` +
            "directory.signatures 'require' demands (the agent must sign its directory response with each key)",
        );
      }
    }
  }
}
