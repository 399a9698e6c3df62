import { hash } from 'node:crypto';
import { AuthUser, SecurityContext } from '../context/security-context';
import { authError } from '../errors/keypair-auth.exception';
import type { AuthRequest } from '../http/auth-request';
import {
  buildSignatureBase,
  cavageDefaultHeaders,
  CAVAGE_ALGORITHMS,
  DigestAlgorithm,
  getFieldLines,
  HttpMessageView,
  parseCavage,
  parseRfc9421,
  buildCavageSigningString,
  resolveCavageAlgorithm,
  Rfc9421Signature,
  selectSignature,
  verifyCavageBytes,
} from '../http-signatures';
import { CavageSignatureParams } from '../http-signatures/cavage/cavage-header.parser';
import { coverageName } from '../http-signatures/rfc9421/component-identifier';
import { assertKeyUsable } from '../keys/credential-checks';
import { isKeyAlgorithm, isRsaFamilyKey, verifyHmacSha256, verifyWithAlgorithm } from '../keys/key-algorithm';
import type { KeyRegistry } from '../keys/key-registry';
import { MAX_KEY_ID_LENGTH } from '../keys/registered-key';
import type { ReplayStore } from '../stores/replay-store.interface';
import { core } from './signature-errors';
import { checkCavageCoverage, checkRfc9421Coverage, SignaturePolicy } from './signature-policy';
import { assertOriginForm, checkSignedDigest, signedBody } from './signed-body';

export interface HttpSignatureSettings {
  clockSkewMs: number;
  maxBodyBytes: number;
  digestAlgorithms: readonly DigestAlgorithm[];
  /** keyid → shared secret and account, for `hmac-sha256` (RFC 9421 only). Never a registered public key. */
  hmacKeys: ReadonlyMap<string, HmacKey>;
}

export interface HmacKey {
  readonly secret: Buffer;
  readonly username: string;
  /** Role subset for this secret; null for all of the account's roles. */
  readonly roles: readonly string[] | null;
}

/** Where the request was addressed: configured, or the connection's scheme and the Host header. */
export interface RequestAddress {
  scheme: string;
  authority: string;
  /**
   * True when the address is the module's `origin`. The Host header is then never read:
   * a covered `host` field (RFC 9421 or Cavage) is taken to be this authority, like
   * `@authority`, so a request signed for another host fails verification.
   */
  configured?: boolean;
}

const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const KNOWN_CAVAGE = new Set(['hs2019', ...Object.keys(CAVAGE_ALGORITHMS)]);

/**
 * Verifies RFC 9421 and draft-cavage-12 HTTP message signatures. Parsing and base
 * building live in the framework-free core (src/http-signatures); this class is the
 * policy: which signature, what it must cover, its age, its digest, the key and its
 * pinned algorithm, and the replay check. Checks that need no key run first; the
 * replay claim runs last, after the signature verified.
 */
export class HttpSignatureAuthenticator {
  /** The last Date header that dateHeader() accepted, and its time. */
  private lastDate: { readonly text: string; readonly ms: number } | undefined;

  constructor(
    private readonly registry: KeyRegistry,
    private readonly replayStore: ReplayStore,
    private readonly settings: HttpSignatureSettings,
  ) {}

  /** True when the request carries an RFC 9421 or a Cavage signature. */
  static carriesSignature(rawHeaders: readonly string[]): boolean {
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i];
      // Compare lengths first: lowercasing every header name of every request adds up.
      const n = name.length;
      if (n !== 9 && n !== 13 && n !== 15) continue;
      const lower = name.toLowerCase();
      if (lower === 'signature-input' || lower === 'signature') return true;
      if (lower === 'authorization' && /^signature\s/i.test(rawHeaders[i + 1])) return true;
    }
    return false;
  }

  async authenticate(
    request: AuthRequest,
    address: RequestAddress,
    policy: SignaturePolicy,
    now = Date.now(),
  ): Promise<SecurityContext> {
    const view = signedRequestView(request, address);
    const body = this.body(request);
    if (getFieldLines(view, 'signature-input') !== undefined) {
      return this.rfc9421(view, body, policy, now);
    }
    const cavage = core(() => parseCavage(view));
    if (!cavage) throw authError('CREDENTIALS_MISSING', 'no signature in the request');
    return this.cavage(view, cavage.params, body, policy, now);
  }

  private async rfc9421(
    view: HttpMessageView,
    body: Buffer | null,
    policy: SignaturePolicy,
    now: number,
  ): Promise<SecurityContext> {
    const entry: Rfc9421Signature = core(() =>
      selectSignature(parseRfc9421(view), { label: policy.label, tag: policy.tag }),
    );
    const { params } = entry;
    const covered = new Set<string>();
    for (const component of entry.components) covered.add(coverageName(component));
    checkRfc9421Coverage(covered, (view.target ?? '').includes('?'), params.created !== undefined, policy);
    if (policy.requireNonce && params.nonce === undefined) {
      throw authError('SIGNATURE_COVERAGE_INSUFFICIENT', 'this route requires a nonce parameter');
    }
    const keyid = params.keyid;
    if (typeof keyid !== 'string' || keyid.length === 0 || keyid.length > MAX_KEY_ID_LENGTH) {
      throw authError('MALFORMED_CREDENTIALS', 'keyid parameter missing or too long');
    }
    const createdMs = params.created !== undefined ? params.created * 1000 : this.dateHeader(view);
    const expiresMs = params.expires !== undefined ? params.expires * 1000 : undefined;
    this.checkWindow(createdMs, expiresMs, policy, now);
    if (body !== null && !covered.has('content-digest')) {
      throw authError('DIGEST_REQUIRED', 'body without covered content-digest');
    }
    const until = Math.min(createdMs + policy.maxAgeMs, expiresMs ?? Infinity);

    // Everything up to the signature check answers alike for every keyid: the algorithm
    // names and the base are checked before any key is looked up.
    const hmac = this.settings.hmacKeys.get(keyid);
    if (params.alg !== undefined && params.alg !== 'hmac-sha256' && !isKeyAlgorithm(params.alg)) {
      throw authError('ALGORITHM_NOT_ALLOWED', `alg ${JSON.stringify(params.alg.slice(0, 30))}`);
    }
    // The base first: an error in it (a covered component absent) must answer alike for every keyid.
    const base = core(() => buildSignatureBase(view, entry));
    if (params.alg === 'hmac-sha256' && !hmac) {
      // A public key used as an HMAC secret never gets here. The answer is the one a configured
      // shared secret gets for a wrong signature, so nobody learns which keyids are secrets.
      throw authError(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        `hmac-sha256 under keyid ${keyid}, which is not a configured shared secret (httpSignature.hmacKeys)`,
      );
    }
    if (hmac) {
      // A shared secret only with HMAC; another alg under its keyid answers as an unknown key.
      if (params.alg !== undefined && params.alg !== 'hmac-sha256') {
        throw authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', `alg ${params.alg} for hmac key ${keyid}`);
      }
      if (!verifyHmacSha256(hmac.secret, base, entry.signature)) {
        throw authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', `hmac signature of ${keyid} does not verify`);
      }
      if (covered.has('content-digest')) this.checkDigest(view, body, 'content-digest');
      const user = await this.registry.findUserByUsername(hmac.username);
      if (!user)
        throw authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', `account ${hmac.username} of hmac key not found`);
      if (!user.active) throw authError('USER_INACTIVE', `user ${user.username} inactive`);
      return this.finish(user, keyid, hmac.roles, 'http-signature-rfc9421', params.nonce, base, until, now);
    }
    const key = this.registry.cachedKey(keyid) ?? (await this.registry.findKey(keyid));
    if (!key || (params.alg !== undefined && params.alg !== key.algorithm)) {
      throw authError(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        key ? `alg ${params.alg} differs from the key's` : `unknown keyid`,
      );
    }
    if (!verifyWithAlgorithm(key.algorithm, key.keyObject, base, entry.signature)) {
      throw authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', `signature of ${key.keyId} does not verify`);
    }
    if (covered.has('content-digest')) this.checkDigest(view, body, 'content-digest');
    const user = assertKeyUsable(key, await this.account(key.userId), now);
    return this.finish(user, key.keyId, key.roles, 'http-signature-rfc9421', params.nonce, base, until, now);
  }

  private async cavage(
    view: HttpMessageView,
    params: CavageSignatureParams,
    body: Buffer | null,
    policy: SignaturePolicy,
    now: number,
  ): Promise<SecurityContext> {
    const algorithm = params.algorithm?.toLowerCase();
    if (algorithm !== undefined && !KNOWN_CAVAGE.has(algorithm)) {
      throw authError('ALGORITHM_NOT_ALLOWED', `algorithm ${JSON.stringify(algorithm.slice(0, 30))}`);
    }
    const defaultHeaders = cavageDefaultHeaders(algorithm);
    const covered = new Set(params.headers ?? defaultHeaders);
    checkCavageCoverage(covered, policy);
    if (params.keyId.length > MAX_KEY_ID_LENGTH) throw authError('MALFORMED_CREDENTIALS', 'keyId too long');
    if (policy.requireNonce)
      throw authError('SIGNATURE_COVERAGE_INSUFFICIENT', 'this route requires a nonce (RFC 9421)');
    // The signing string is built before the key lookup (a missing header answers alike for
    // every keyId); it also fails when (created) or (expires) is covered but absent.
    const signed = Buffer.from(
      core(() => buildCavageSigningString(view, params, { defaultHeaders })),
      'latin1',
    );
    // created and expires count only when signed: an unsigned expires= appended by whoever
    // relays the request would otherwise shorten the window and with it the replay claim.
    const createdMs =
      covered.has('(created)') && params.created !== undefined
        ? params.created * 1000
        : this.dateHeader(view);
    const expiresMs =
      covered.has('(expires)') && params.expires !== undefined ? params.expires * 1000 : undefined;
    this.checkWindow(createdMs, expiresMs, policy, now);
    if (body !== null && !covered.has('digest') && !covered.has('content-digest')) {
      throw authError('DIGEST_REQUIRED', 'body without a covered Digest');
    }

    const key = this.registry.cachedKey(params.keyId) ?? (await this.registry.findKey(params.keyId));
    if (!key) throw authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', 'unknown keyId');
    let cavageAlgorithm: ReturnType<typeof resolveCavageAlgorithm>;
    try {
      cavageAlgorithm = resolveCavageAlgorithm(algorithm, key.algorithm, isRsaFamilyKey(key));
    } catch {
      // Answered like a bad signature; the log names what the key takes.
      throw authError(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        `algorithm ${algorithm} differs from key ${key.keyId}'s (${key.algorithm}${isRsaFamilyKey(key) ? ', registered without an algorithm: rsa-sha256 or rsa-sha512' : ''}): ` +
          `send algorithm="hs2019" or the key's own name, or register the key with the algorithm the client uses`,
      );
    }
    if (!verifyCavageBytes(cavageAlgorithm, key.keyObject, signed, params.signature))
      throw authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', `signature of ${key.keyId} does not verify`);
    if (covered.has('digest')) this.checkDigest(view, body, 'digest');
    if (covered.has('content-digest')) this.checkDigest(view, body, 'content-digest');
    const until = Math.min(createdMs + policy.maxAgeMs, expiresMs ?? Infinity);
    const user = assertKeyUsable(key, await this.account(key.userId), now);
    return this.finish(user, key.keyId, key.roles, 'http-signature-cavage', undefined, signed, until, now);
  }

  /** After the signature verified and the account checked: the replay claim. */
  private async finish(
    user: AuthUser,
    keyId: string,
    roles: readonly string[] | null,
    method: 'http-signature-rfc9421' | 'http-signature-cavage',
    nonce: string | undefined,
    signedBytes: Buffer,
    acceptableUntil: number,
    now: number,
  ): Promise<SecurityContext> {
    // The claim outlives the last moment the window check would still accept these bytes
    // (acceptableUntil + skew), plus a second for stores that round or expire early.
    const ttl = Math.ceil(acceptableUntil + this.settings.clockSkewMs - now) + 1000;
    if (!Number.isFinite(ttl)) throw authError('MALFORMED_CREDENTIALS', 'signature time is not a number');
    // With a nonce, the nonce is single-use. Without one, what was signed is: not the
    // signature bytes, since an ECDSA signature can be re-encoded into another valid one.
    const fresh = nonce
      ? await this.replayStore.claim(`sig-nonce:${keyId}`, nonce, ttl)
      : await this.replayStore.claim(`sig:${keyId}`, hash('sha256', signedBytes, 'base64url'), ttl);
    if (!fresh) throw authError('REPLAYED', `${nonce ? 'nonce' : 'signed content'} reused for ${keyId}`);
    this.registry.touch(keyId);
    return new SecurityContext(user, keyId, method, roles);
  }

  /** The key's account, from the cache without a promise when it is there. */
  private account(userId: string): AuthUser | null | Promise<AuthUser | null> {
    return this.registry.cachedUser(userId) ?? this.registry.findUserById(userId);
  }

  private body(request: AuthRequest): Buffer | null {
    return signedBody(request, this.settings.maxBodyBytes);
  }

  private checkDigest(view: HttpMessageView, body: Buffer | null, field: 'content-digest' | 'digest'): void {
    checkSignedDigest(view, body, field, this.settings.digestAlgorithms);
  }

  private dateHeader(view: HttpMessageView): number {
    const lines = getFieldLines(view, 'date');
    if (!lines || lines.length !== 1) {
      throw authError('MALFORMED_CREDENTIALS', 'no created parameter and no single IMF-fixdate Date header');
    }
    const text = lines[0];
    // Concurrent clients send the same Date within a second: remember the last one parsed.
    if (this.lastDate !== undefined && text === this.lastDate.text) return this.lastDate.ms;
    const trimmed = text.trim();
    // Date.parse reads "00 Jan" as NaN and second 60 as another time: only a date that
    // prints back to exactly what was sent (weekday included) is a real IMF-fixdate.
    const ms = IMF_FIXDATE.test(trimmed) ? Date.parse(trimmed) : NaN;
    if (!Number.isFinite(ms) || new Date(ms).toUTCString() !== trimmed) {
      throw authError(
        'MALFORMED_CREDENTIALS',
        'no created parameter and no single valid IMF-fixdate Date header',
      );
    }
    this.lastDate = { text, ms };
    return ms;
  }

  private checkWindow(
    createdMs: number,
    expiresMs: number | undefined,
    policy: SignaturePolicy,
    now: number,
  ): void {
    const skew = this.settings.clockSkewMs;
    // A NaN compares false with everything: without this, it would pass every check below.
    if (!Number.isFinite(createdMs) || (expiresMs !== undefined && !Number.isFinite(expiresMs))) {
      throw authError('MALFORMED_CREDENTIALS', 'created, expires or Date is not a valid time');
    }
    if (createdMs > now + skew)
      throw authError('TOKEN_NOT_YET_VALID', `created ${Math.round((createdMs - now) / 1000)} s ahead`);
    if (createdMs < now - policy.maxAgeMs - skew) {
      throw authError('TOKEN_EXPIRED', `created ${Math.round((now - createdMs) / 1000)} s ago`);
    }
    if (expiresMs !== undefined && expiresMs < now - skew)
      throw authError('TOKEN_EXPIRED', 'expires has passed');
  }
}

/**
 * A signed request as the signature core reads it, addressed to `address`. Its target must
 * be origin-form (REQUEST_TARGET_INVALID otherwise); with a configured origin, the Host
 * header is replaced by it.
 */
export function signedRequestView(request: AuthRequest, address: RequestAddress): HttpMessageView {
  assertOriginForm(request.url);
  return {
    method: request.method,
    scheme: address.scheme,
    authority: address.authority,
    target: request.url,
    rawHeaders: address.configured ? withHost(request.rawHeaders, address.authority) : request.rawHeaders,
  };
}

/**
 * `rawHeaders` with every Host line replaced by one `host: authority`; the same array when
 * it already has exactly that one line (a proxy that keeps Host), so nothing is copied then.
 */
export function withHost(rawHeaders: readonly string[], authority: string): readonly string[] {
  let lines = 0;
  let same = true;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === 4 && rawHeaders[i].toLowerCase() === 'host') {
      lines++;
      if (rawHeaders[i + 1] !== authority) same = false;
    }
  }
  if (lines === 1 && same) return rawHeaders;
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === 4 && rawHeaders[i].toLowerCase() === 'host') continue;
    out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  out.push('host', authority);
  return out;
}
