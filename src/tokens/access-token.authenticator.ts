import { decodeProtectedHeader, jwtVerify, JWTPayload } from 'jose';
import type { CertificateRegistry } from '../certificate-strategy/certificate-registry';
import { AuthUser, SecurityContext } from '../context/security-context';
import type { AuthErrorCode } from '../errors/auth-error-codes';
import { authError } from '../errors/keypair-auth.exception';
import { assertKeyUsable } from '../keys/credential-checks';
import type { KeyRegistry } from '../keys/key-registry';
import { ROLE_PATTERN } from '../keys/user-directory.interface';
import type { ServerKeyring } from '../response-signing/server-keyring';
import {
  ACCESS_TOKEN_TYPE,
  AccessTokenClaims,
  COMPACT_JWS,
  MAX_ACCESS_TOKEN_LENGTH,
  TokenConfirmation,
} from './access-token';
import type { DpopVerifier } from './dpop.verifier';
import type { TokenGenerations } from './token-generations';

export interface AccessTokenSettings {
  clockSkewMs: number;
  issuer: string | null;
  audience: string | null;
}

/** What the access-token authenticator needs of a request. */
export interface AccessTokenRequest {
  /** `bearer` or `dpop` (lowercased Authorization scheme). */
  readonly scheme: string;
  readonly token: string;
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  /** scheme://authority of this API; only computed when a DPoP proof is checked. */
  readonly origin: () => string;
  /** The request's DPoP header, if any. */
  readonly dpopProof: string | undefined;
}

const MAX_CLAIM_LENGTH = 256;
const MAX_ROLES = 64;

/**
 * Verifies the access tokens this server issued (`typ: at+jwt`) and builds the
 * SecurityContext (method `access-token`). In order: the header (`alg` none/HS*
 * refused; `kid` must name a keyring key and `alg` must be that key's), then `jose`
 * `jwtVerify` pinned to that key and algorithm with `typ`, `exp`, `iss`, `aud`; the
 * binding (`cnf`) against the scheme; the client credential (revoked, expired) and
 * the account (active) through the cached registries; the user's token generation
 * (cached); last the DPoP proof, whose `jti` claim is the only write. With warm
 * caches nothing here queries the database.
 */
export class AccessTokenAuthenticator {
  constructor(
    /** The server keyring whose keys sign the tokens accepted here. */
    readonly keyring: ServerKeyring,
    private readonly registry: KeyRegistry,
    private readonly certificates: CertificateRegistry | null,
    private readonly generations: TokenGenerations,
    private readonly dpop: DpopVerifier,
    private readonly settings: AccessTokenSettings,
  ) {}

  async authenticate(request: AccessTokenRequest, now = Date.now()): Promise<SecurityContext> {
    const claims = await this.verify(request.token, now);
    const { jkt, 'x5t#S256': x5t } = claims.cnf ?? {};
    if (x5t !== undefined) {
      // With the certificate, the certificate strategy decides the request; here it is missing.
      throw authError('CERT_MISSING', 'certificate-bound access token presented without its certificate');
    }
    if (jkt === undefined && request.scheme === 'dpop') {
      throw authError('DPOP_PROOF_INVALID', 'DPoP scheme with an access token that is not DPoP-bound');
    }
    if (jkt !== undefined && (request.scheme !== 'dpop' || request.dpopProof === undefined)) {
      throw authError('DPOP_PROOF_REQUIRED', 'DPoP-bound access token without the DPoP scheme and a proof');
    }

    const { user, credentialRoles } = await this.assertCurrent(claims, now);
    if (jkt !== undefined) {
      await this.dpop.verify(
        request.dpopProof as string,
        { method: request.method, url: request.url, origin: request.origin() },
        { accessToken: request.token, jkt },
        now,
      );
    }
    if (claims.cred === 'key') this.registry.touch(claims.key_id);
    // Granted roles ∩ the credential's subset now; SecurityContext intersects with the account's roles.
    const granted =
      credentialRoles === null ? claims.roles : claims.roles.filter((r) => credentialRoles.includes(r));
    return new SecurityContext(user, claims.key_id, 'access-token', granted, claims.exp * 1000);
  }

  /**
   * The checks of a verified token that can change after it was issued: its key or
   * certificate (revoked, expired, gone, another user's), the account (gone, inactive)
   * and the user's token generation, through the cached registries. Run on every
   * request, and again by a long-lived connection the token opened (a WebSocket):
   * throws the coded 401 once the token would no longer be accepted.
   */
  async assertCurrent(
    claims: AccessTokenClaims,
    now = Date.now(),
  ): Promise<{ user: AuthUser; credentialRoles: readonly string[] | null }> {
    const user = await this.registry.findUserById(claims.sub);
    let credentialRoles: readonly string[] | null;
    if (claims.cred === 'key') {
      const key = await this.registry.findKey(claims.key_id);
      if (!key || key.userId !== claims.sub) {
        throw authError(
          'ACCESS_TOKEN_INVALID',
          `key ${claims.key_id} of the token is gone or not the user's`,
        );
      }
      assertKeyUsable(key, user, now);
      credentialRoles = key.roles;
    } else {
      const registration = this.certificates
        ? await this.certificates.findByFingerprint(claims.key_id)
        : null;
      if (registration?.revokedAt != null && registration.revokedAt <= now) {
        throw authError('CERT_REVOKED', `certificate ${claims.key_id} of the token is revoked`);
      }
      if (registration && registration.userId !== claims.sub) {
        throw authError('ACCESS_TOKEN_INVALID', `certificate ${claims.key_id} is registered to another user`);
      }
      // The certificate's dates and CRL state, as the certificate strategy would check them now.
      await this.certificates?.assertCertificateCurrent(claims.key_id);
      if (!user) throw authError('ACCESS_TOKEN_INVALID', `user ${claims.sub} of the token not found`);
      if (!user.active) throw authError('USER_INACTIVE', `user ${user.username} inactive`);
      credentialRoles = registration?.roles ?? null;
    }
    if (claims.gen < (await this.generations.current(claims.sub))) {
      throw authError(
        'TOKEN_REVOKED',
        `tokens of user ${claims.sub} were revoked after generation ${claims.gen}`,
      );
    }
    return { user: user!, credentialRoles };
  }

  /** Checks signature, type and claims of an access token; resolves its claims or throws a coded 401. */
  async verify(token: string, now = Date.now()): Promise<AccessTokenClaims> {
    if (token.length > MAX_ACCESS_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      throw authError('MALFORMED_CREDENTIALS', 'access token is not a compact JWS of acceptable size');
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw authError('MALFORMED_CREDENTIALS', 'access token header is not valid JSON');
    }
    const alg = typeof header.alg === 'string' ? header.alg : '';
    if (alg === '' || alg.toLowerCase() === 'none' || /^HS/i.test(alg)) {
      throw authError('ALGORITHM_NOT_ALLOWED', `access token alg ${JSON.stringify(alg.slice(0, 20))}`);
    }
    const key = typeof header.kid === 'string' ? this.keyring.find(header.kid) : undefined;
    if (!key) throw authError('ACCESS_TOKEN_INVALID', 'access token kid names no server key');
    if (alg !== key.jwsAlgorithm) {
      throw authError('ACCESS_TOKEN_INVALID', `access token alg ${alg} is not its key's ${key.jwsAlgorithm}`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.jwsAlgorithm],
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        clockTolerance: Math.floor(this.settings.clockSkewMs / 1000),
        currentDate: new Date(now),
        ...(this.settings.issuer !== null ? { issuer: this.settings.issuer } : {}),
        ...(this.settings.audience !== null ? { audience: this.settings.audience } : {}),
      }));
    } catch (error) {
      throw authError(joseErrorCode(error), `access token: ${(error as Error)?.message ?? error}`);
    }
    if ((payload.iat as number) * 1000 > now + this.settings.clockSkewMs) {
      throw authError('TOKEN_NOT_YET_VALID', 'access token iat in the future');
    }
    return checkClaims(payload);
  }
}

function joseErrorCode(error: unknown): AuthErrorCode {
  const { code, claim } = (error ?? {}) as { code?: string; claim?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'TOKEN_EXPIRED';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'typ') return 'TOKEN_TYPE_INVALID';
      if (claim === 'aud') return 'AUDIENCE_INVALID';
      if (claim === 'nbf') return 'TOKEN_NOT_YET_VALID';
      return 'ACCESS_TOKEN_INVALID';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'MALFORMED_CREDENTIALS';
    default:
      // ERR_JWS_SIGNATURE_VERIFICATION_FAILED and anything unexpected: not a token we issued.
      return 'ACCESS_TOKEN_INVALID';
  }
}

function shortString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_LENGTH;
}

/** Our own tokens only ever carry these shapes; anything else was not issued here. */
function checkClaims(payload: JWTPayload): AccessTokenClaims {
  const p = payload as Record<string, unknown>;
  const roles = p.roles;
  const validRoles =
    Array.isArray(roles) &&
    roles.length <= MAX_ROLES &&
    roles.every((r) => typeof r === 'string' && ROLE_PATTERN.test(r));
  const cnf = p.cnf as TokenConfirmation | undefined;
  const validCnf =
    cnf === undefined ||
    (typeof cnf === 'object' &&
      cnf !== null &&
      (cnf.jkt === undefined || shortString(cnf.jkt)) &&
      (cnf['x5t#S256'] === undefined || shortString(cnf['x5t#S256'])));
  if (
    !shortString(p.sub) ||
    !shortString(p.key_id) ||
    (p.cred !== 'key' && p.cred !== 'certificate') ||
    !validRoles ||
    !Number.isSafeInteger(p.gen) ||
    (p.gen as number) < 0 ||
    !shortString(p.jti) ||
    !validCnf
  ) {
    throw authError('ACCESS_TOKEN_INVALID', 'access token claims are not of the shape this server issues');
  }
  return p as unknown as AccessTokenClaims;
}
