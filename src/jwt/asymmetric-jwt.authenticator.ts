import type { JWTPayload } from 'jose';
import { SecurityContext } from '../context/security-context';
import { authError } from '../errors/keypair-auth.exception';
import { assertKeyUsable } from '../keys/credential-checks';
import {
  isJwsAlgorithm,
  isRsaFamilyKey,
  jwsAlgorithmsOfKey,
  keyFitsJws,
  verifyJws,
} from '../keys/key-algorithm';
import type { KeyRegistry } from '../keys/key-registry';
import { MAX_KEY_ID_LENGTH, RegisteredKey } from '../keys/registered-key';
import type { ReplayStore } from '../stores/replay-store.interface';
import { parseCompactJws } from './compact-jws';

export interface AsymmetricJwtSettings {
  clockSkewMs: number;
  maxLifetimeMs: number;
  audience: readonly string[] | null;
  requireRequestBinding: boolean;
  maxKeysPerUsernameLookup: number;
  /** A key registered without an algorithm also accepts PS256/PS384/PS512 (default false). */
  allowPssOnRsaKeys?: boolean;
}

/** What the JWT authenticator needs of a request. */
export interface JwtRequestInfo {
  readonly method: string;
  /** scheme://authority of this API as configured (or as seen when not configured). */
  readonly origin: string;
  /** Path and query as received. */
  readonly url: string;
}

const MAX_TOKEN_LENGTH = 8192;
const MAX_CLAIM_LENGTH = 256;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/; // an empty signature reaches the alg check

interface Claims {
  username: string;
  nonce: string;
  /** Last moment (ms) at which the token is still acceptable; bounds the nonce's lifetime. */
  acceptableUntil: number;
}

/**
 * Verifies `Authorization: JWT <token>` (and `Bearer`): the client signs a short JWT
 * with its private key. Accepts the asymmetric_jwt_auth format (`username`, `time`,
 * `nonce`, ±skew) and the standard one (`sub`, `iat`, `exp`, `jti`, optional `aud`,
 * `htm`/`htu`). The algorithm comes from the stored key: the header's `alg` only
 * has to agree with it. Cheap checks run before the signature; the nonce is claimed
 * only after it, so forged tokens cannot burn a client's nonces.
 */
export class AsymmetricJwtAuthenticator {
  constructor(
    private readonly registry: KeyRegistry,
    private readonly replayStore: ReplayStore,
    private readonly settings: AsymmetricJwtSettings,
  ) {}

  async authenticate(token: string, request: JwtRequestInfo, now = Date.now()): Promise<SecurityContext> {
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      throw authError('MALFORMED_CREDENTIALS', 'token is not a compact JWS of acceptable size');
    }
    const jws = parseCompactJws(token);
    const { header, payload } = jws;
    const alg = header.alg;
    // `none`, HS* and names we do not know are refused before any lookup, alike for every key.
    if (!isJwsAlgorithm(alg))
      throw authError('ALGORITHM_NOT_ALLOWED', `alg ${JSON.stringify(String(alg).slice(0, 20))}`);

    const claims = this.checkClaims(payload, request, now);
    // A key in the cache is used without a promise; anything else goes through the lookup.
    const cached = typeof header.kid === 'string' ? this.registry.cachedKey(header.kid) : undefined;
    const candidates = cached ? [cached] : await this.candidateKeys(header.kid, claims.username);
    const allowPss = this.settings.allowPssOnRsaKeys === true;
    const matching = candidates.filter((k) => jwsAlgorithmsOfKey(k, allowPss).includes(alg));
    if (matching.length === 0) {
      // Either no key, or the key does not accept this alg: the caller sees the same answer;
      // the log says how to fix it.
      throw authError(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        candidates.length === 0
          ? `no key of ${claims.username} for alg ${alg}`
          : refusedAlgReason(candidates[0], alg, allowPss),
      );
    }
    const key = matching.find((k) => verifyJws(alg, k.keyObject, jws.signingInput, jws.signature));
    if (!key)
      throw authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', `signature does not verify for ${claims.username}`);

    const account = this.registry.cachedUser(key.userId) ?? (await this.registry.findUserById(key.userId));
    const user = assertKeyUsable(key, account, now);
    if (user.username !== claims.username) {
      throw authError(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        `key ${key.keyId} does not belong to ${claims.username}`,
      );
    }
    const fresh = await this.replayStore.claim(
      `jwt:${user.id}`,
      claims.nonce,
      claims.acceptableUntil - now + 1000,
    );
    if (!fresh) throw authError('REPLAYED', `nonce reused by ${user.username}`);
    this.registry.touch(key.keyId);
    return new SecurityContext(user, key.keyId, 'jwt', key.roles);
  }

  private checkClaims(payload: JWTPayload, request: JwtRequestInfo, now: number): Claims {
    const skew = this.settings.clockSkewMs;
    const { username, sub } = payload as { username?: unknown; sub?: unknown };
    const name = username ?? sub;
    if (!isShortString(name) || (username !== undefined && sub !== undefined && username !== sub)) {
      throw authError(
        'MALFORMED_CREDENTIALS',
        'token needs a string username or sub (equal if both are set)',
      );
    }
    let claims: Claims;
    if (username !== undefined) {
      // asymmetric_jwt_auth format: time (integer seconds) within ±skew, nonce.
      const { time, nonce } = payload as { time?: unknown; nonce?: unknown };
      if (!Number.isSafeInteger(time) || !isShortString(nonce)) {
        throw authError('MALFORMED_CREDENTIALS', 'token needs an integer time and a string nonce');
      }
      const t = (time as number) * 1000;
      if (t < now - skew) throw authError('TOKEN_EXPIRED', `time is ${Math.round((now - t) / 1000)} s old`);
      if (t > now + skew)
        throw authError('TOKEN_NOT_YET_VALID', `time is ${Math.round((t - now) / 1000)} s ahead`);
      claims = { username: name as string, nonce: nonce as string, acceptableUntil: t + skew };
    } else {
      const { iat, exp, jti } = payload;
      if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp) || !isShortString(jti)) {
        throw authError('MALFORMED_CREDENTIALS', 'standard tokens need integer iat and exp and a string jti');
      }
      const issued = (iat as number) * 1000;
      const expires = (exp as number) * 1000;
      if (expires - issued > this.settings.maxLifetimeMs || expires < issued) {
        throw authError('TOKEN_LIFETIME_TOO_LONG', `exp - iat = ${(expires - issued) / 1000} s`);
      }
      if (issued > now + skew) throw authError('TOKEN_NOT_YET_VALID', 'iat in the future');
      claims = { username: name as string, nonce: jti as string, acceptableUntil: expires + skew };
    }
    if (payload.exp !== undefined) {
      if (!Number.isSafeInteger(payload.exp))
        throw authError('MALFORMED_CREDENTIALS', 'exp is not an integer');
      if (payload.exp * 1000 + skew < now) throw authError('TOKEN_EXPIRED', 'exp has passed');
      claims.acceptableUntil = Math.min(claims.acceptableUntil, payload.exp * 1000 + skew);
    }
    if (
      payload.nbf !== undefined &&
      (!Number.isSafeInteger(payload.nbf) || payload.nbf * 1000 - skew > now)
    ) {
      throw authError('TOKEN_NOT_YET_VALID', 'nbf in the future');
    }
    this.checkAudience(payload.aud);
    this.checkBinding(payload as { htm?: unknown; htu?: unknown }, request);
    return claims;
  }

  /**
   * A token that names an audience is only accepted by a server configured with
   * that audience: a token meant for another service is never good here.
   */
  private checkAudience(aud: unknown): void {
    const expected = this.settings.audience;
    if (aud === undefined) {
      if (expected) throw authError('AUDIENCE_INVALID', 'aud required');
      return;
    }
    const values = Array.isArray(aud) ? aud : [aud];
    if (!expected || !values.some((v) => typeof v === 'string' && expected.includes(v))) {
      throw authError('AUDIENCE_INVALID', 'aud does not name this service');
    }
  }

  private checkBinding(payload: { htm?: unknown; htu?: unknown }, request: JwtRequestInfo): void {
    const { htm, htu } = payload;
    if (htm === undefined && htu === undefined && !this.settings.requireRequestBinding) return;
    if (htm !== request.method)
      throw authError('REQUEST_BINDING_MISMATCH', 'htm differs from the request method');
    // As in DPoP (RFC 9449 §4.3): htu is compared without query and fragment.
    const path = request.url.split('?', 1)[0];
    if (typeof htu !== 'string' || htu.split(/[?#]/, 1)[0] !== request.origin + path) {
      throw authError('REQUEST_BINDING_MISMATCH', 'htu differs from the request URL');
    }
  }

  private async candidateKeys(kid: unknown, username: string): Promise<readonly RegisteredKey[]> {
    if (kid !== undefined) {
      if (!isShortString(kid) || kid.length > MAX_KEY_ID_LENGTH)
        throw authError('MALFORMED_CREDENTIALS', 'kid is not a short string');
      const key = await this.registry.findKey(kid);
      return key ? [key] : [];
    }
    const { keys } = await this.registry.findKeysOfUsername(username, this.settings.maxKeysPerUsernameLookup);
    return keys;
  }
}

/** The log line for a known key that does not accept the token's alg: what it accepts, and the fix. */
function refusedAlgReason(key: RegisteredKey, alg: string, allowPss: boolean): string {
  const accepted = jwsAlgorithmsOfKey(key, allowPss);
  const what = isRsaFamilyKey(key) ? 'registered without an algorithm' : `pinned to ${key.algorithm}`;
  let fix: string;
  if (!keyFitsJws(key.keyObject, alg)) {
    fix = `${alg} is for another key type or curve; sign with ${accepted.join(' or ')}`;
  } else if (key.algorithm === 'rsa-pss-sha512') {
    fix = 'the key is registered as rsa-pss-sha512: sign with PS512';
  } else if (/^PS/.test(alg) && isRsaFamilyKey(key)) {
    fix = 'set jwt.allowPssOnRsaKeys: true, or use a key registered with --alg rsa-pss-sha512 (PS512)';
  } else {
    const exact =
      alg === 'PS512'
        ? '--alg rsa-pss-sha512 or '
        : /^RS(256|512)$/.test(alg)
          ? `--alg rsa-v1_5-sha${alg.slice(2)} or `
          : '';
    // The same public key cannot be registered twice: the fix is the client's alg, or another key.
    fix =
      `sign with ${accepted.join(' or ')}, or use a key registered with ${exact}no algorithm (RS256/RS384/RS512); ` +
      'older keys: docs/jwt.md#algorithms-by-key-type';
  }
  return `key ${key.keyId} is ${what} (accepts ${accepted.join(', ')}); the token used ${alg}: ${fix}`;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are refused.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function isShortString(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_CLAIM_LENGTH &&
    !CONTROL_CHARACTERS.test(value)
  );
}
