import { createPublicKey, KeyObject, timingSafeEqual } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, JWK, jwtVerify, JWTPayload } from 'jose';
import { authError } from '../errors/keypair-auth.exception';
import { headerValues } from '../http/auth-request';
import { isJwsAlgorithm, keyFitsJws } from '../keys/key-algorithm';
import type { ReplayStore } from '../stores/replay-store.interface';
import { accessTokenHash, comparableHtu, DPOP_ALGORITHMS } from './dpop-proof';
import { LRUCache } from 'lru-cache';
import { checkEd25519Point } from '../keys/formats/ed25519-point';
import { KeyFormatError } from '../keys/formats/key-format.error';
import { MAX_RSA_BITS, MAX_RSA_PUBLIC_EXPONENT } from '../keys/formats/key-limits';
import { weakRsaModulus } from '../keys/formats/rsa-modulus-checks';

export interface DpopSettings {
  /** How old `iat` may be (on top of the skew). */
  maxAgeMs: number;
  clockSkewMs: number;
}

/** The request a proof must match. */
export interface DpopRequest {
  readonly method: string;
  /** Path and query as received, raw: not dot-segment-resolved (the query is not compared). */
  readonly url: string;
  /** scheme://authority of this API (configured `origin`, else connection + Host). */
  readonly origin: string;
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: the `cnf.jkt` it binds to. */
  readonly jkt: string;
}

const MAX_PROOF_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MIN_RSA_BITS = 2048;

/**
 * Checks DPoP proofs (RFC 9449 §4.3) without server nonces: `typ: dpop+jwt`, an
 * asymmetric `alg` that fits the public `jwk` in the header (private members are
 * refused), the signature, `htm`, `htu` (without query and fragment, against the
 * configured origin or the connection and Host), `iat` within `maxAgeMs` (+ skew),
 * `ath` when an access token goes with it, the expected key thumbprint, and last
 * `jti` single-use per key through the ReplayStore (so forged proofs burn nothing).
 */
export class DpopVerifier {
  /** Thumbprints of proof keys that passed assertForgeryResistant. */
  private readonly checkedKeys = new LRUCache<string, true>({ max: 10_000 });

  constructor(
    private readonly replayStore: ReplayStore,
    private readonly settings: DpopSettings,
  ) {}

  /** The request's one DPoP proof, undefined without one; two DPoP headers are refused. */
  static proofOf(rawHeaders: readonly string[]): string | undefined {
    const values = headerValues(rawHeaders, 'dpop');
    if (values.length > 1) throw authError('DPOP_PROOF_INVALID', 'more than one DPoP header');
    return values[0]?.trim();
  }

  async verify(
    proof: string,
    request: DpopRequest,
    expect: { accessToken?: string; jkt?: string },
    now = Date.now(),
  ): Promise<VerifiedDpopProof> {
    if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) {
      throw authError('DPOP_PROOF_INVALID', 'DPoP proof is not a compact JWS of acceptable size');
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      throw authError('DPOP_PROOF_INVALID', 'DPoP proof header is not valid JSON');
    }
    if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt') {
      throw authError('DPOP_PROOF_INVALID', 'DPoP proof typ is not dpop+jwt');
    }
    // Any asymmetric JWS alg we verify (DPOP_ALGORITHMS: PS* and RS* on RSA keys of 2048+
    // bits and a bounded exponent, ES256/ES384, EdDSA and its alias Ed25519); never none/HS*.
    const algorithm = header.alg;
    if (!isJwsAlgorithm(algorithm) || !DPOP_ALGORITHMS.includes(algorithm))
      throw authError('DPOP_PROOF_INVALID', `DPoP proof alg ${String(header.alg).slice(0, 20)}`);
    const { key, jwk } = publicKeyOf(header.jwk);
    if (!keyFitsJws(key, algorithm)) {
      throw authError('DPOP_PROOF_INVALID', `DPoP proof alg ${header.alg} does not fit its jwk`);
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(proof, key, { algorithms: [algorithm], typ: 'dpop+jwt' }));
    } catch {
      throw authError('DPOP_PROOF_INVALID', 'DPoP proof signature or claims do not verify');
    }
    const { jti, htm, htu, iat, ath } = payload as Record<string, unknown>;
    if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256) {
      throw authError('DPOP_PROOF_INVALID', 'DPoP proof jti missing or of a bad length');
    }
    if (htm !== request.method) throw authError('DPOP_PROOF_INVALID', 'DPoP htm differs from the method');
    // The path as received (a request line in absolute form or `*` has none to compare).
    const path = request.url.split('?', 1)[0];
    const target = path.startsWith('/') ? comparableHtu(`${request.origin}${path}`) : null;
    if (typeof htu !== 'string' || target === null || comparableHtu(htu) !== target) {
      throw authError('DPOP_PROOF_INVALID', 'DPoP htu differs from the request URL');
    }
    if (typeof iat !== 'number' || !Number.isFinite(iat)) {
      throw authError('DPOP_PROOF_INVALID', 'DPoP proof iat missing');
    }
    const { maxAgeMs, clockSkewMs } = this.settings;
    if (iat * 1000 > now + clockSkewMs) throw authError('DPOP_PROOF_INVALID', 'DPoP proof iat in the future');
    if (iat * 1000 < now - maxAgeMs - clockSkewMs)
      throw authError('DPOP_PROOF_INVALID', 'DPoP proof too old');
    if (expect.accessToken !== undefined) {
      const expected = Buffer.from(accessTokenHash(expect.accessToken));
      if (typeof ath !== 'string' || !safeEqual(Buffer.from(ath), expected)) {
        throw authError('DPOP_PROOF_INVALID', 'DPoP ath does not match the access token');
      }
    }
    const jkt = await calculateJwkThumbprint(jwk, 'sha256');
    if (expect.jkt !== undefined && !safeEqual(Buffer.from(jkt), Buffer.from(expect.jkt))) {
      throw authError('DPOP_PROOF_INVALID', 'DPoP proof key is not the key the token is bound to');
    }
    // A key being bound (no jkt yet: token issuance) is held to the registration checks that a
    // public key alone can fail; later proofs must match its thumbprint, so once is enough. They
    // run only for a proof that verified in full (so a stranger's made-up key costs nothing), and
    // once per key (an 8192-bit modulus takes ~0.4 s): a new key costs its maker far more.
    if (expect.jkt === undefined && !this.checkedKeys.has(jkt)) {
      assertForgeryResistant(jwk);
      this.checkedKeys.set(jkt, true);
    }
    const ttl = maxAgeMs + 2 * clockSkewMs + 1000;
    if (!(await this.replayStore.claim(`dpop:${jkt}`, jti, ttl))) {
      throw authError('REPLAYED', 'DPoP proof jti reused');
    }
    return { jkt };
  }
}

function publicKeyOf(value: unknown): { key: KeyObject; jwk: JWK } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw authError('DPOP_PROOF_INVALID', 'DPoP proof has no jwk header');
  }
  const jwk = value as Record<string, unknown>;
  if (PRIVATE_JWK_MEMBERS.some((m) => m in jwk)) {
    throw authError('DPOP_PROOF_INVALID', 'DPoP proof jwk contains private key material');
  }
  if (!['OKP', 'EC', 'RSA'].includes(jwk.kty as string)) {
    throw authError('DPOP_PROOF_INVALID', 'DPoP proof jwk is not an OKP, EC or RSA public key');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch {
    throw authError('DPOP_PROOF_INVALID', 'DPoP proof jwk is not a usable public key');
  }
  const { modulusLength: bits, publicExponent } = key.asymmetricKeyDetails ?? {};
  // Too small is weak; too large a modulus or exponent makes every proof an expensive
  // verify for whoever sends it (the caps of registered keys).
  if (key.asymmetricKeyType === 'rsa') {
    if (bits === undefined || bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw authError('DPOP_PROOF_INVALID', `DPoP proof RSA key of ${bits} bits`);
    }
    if (publicExponent === undefined || publicExponent > MAX_RSA_PUBLIC_EXPONENT) {
      throw authError('DPOP_PROOF_INVALID', 'DPoP proof RSA public exponent above 2^32 - 1');
    }
    // e = 1 makes the PKCS#1 encoding of any input its own signature (anyone can make proofs);
    // an even e or an even modulus is no RSA key. The bounds of registered keys (KEY_TOO_WEAK).
    if (publicExponent < 3n || publicExponent % 2n === 0n || !oddModulus(jwk.n)) {
      throw authError(
        'DPOP_PROOF_INVALID',
        `DPoP proof RSA public exponent ${publicExponent} or modulus is not RSA`,
      );
    }
  }
  // The thumbprint is computed over the key as parsed, not over what the client wrote.
  return { key, jwk: key.export({ format: 'jwk' }) as JWK };
}

/**
 * Refuses a proof key that anyone could sign for without its private half: an Ed25519
 * small-order point, or an RSA modulus that the public key alone factors. Run once, when
 * the key is bound (after the client's own key proof), not on every proof.
 */
function assertForgeryResistant(jwk: JWK): void {
  try {
    if (jwk.kty === 'OKP' && typeof jwk.x === 'string') checkEd25519Point(Buffer.from(jwk.x, 'base64url'));
  } catch (error) {
    const why = error instanceof KeyFormatError ? error.message : 'not a valid Ed25519 point';
    throw authError('DPOP_PROOF_INVALID', `DPoP proof key refused: ${why}`);
  }
  if (jwk.kty === 'RSA' && typeof jwk.n === 'string') {
    const weak = weakRsaModulus(BigInt(`0x${Buffer.from(jwk.n, 'base64url').toString('hex')}`));
    if (weak !== undefined)
      throw authError(
        'DPOP_PROOF_INVALID',
        `DPoP proof RSA key refused: its modulus can be factored (${weak})`,
      );
  }
}

function oddModulus(n: unknown): boolean {
  const bytes = typeof n === 'string' ? Buffer.from(n, 'base64url') : Buffer.alloc(0);
  return bytes.length > 0 && (bytes[bytes.length - 1] & 1) === 1;
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
