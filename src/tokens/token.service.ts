import { randomBytes, randomUUID } from 'node:crypto';
import { HttpStatus } from '@nestjs/common';
import type { AuthMethod, AuthUser } from '../context/security-context';
import { effectiveRoles, SecurityContext } from '../context/security-context';
import type { AuthErrorCode } from '../errors/auth-error-codes';
import { authError } from '../errors/keypair-auth.exception';
import { KeypairRequestException } from '../errors/request-error.exception';
import { assertKeyUsable } from '../keys/credential-checks';
import { verifyWithAlgorithm } from '../keys/key-algorithm';
import type { KeyRegistry } from '../keys/key-registry';
import { keyProofOf } from '../keys/key-proof';
import { KeyStoreUnavailableError } from '../keys/key-store-unavailable.error';
import type { ServerKeyring } from '../response-signing/server-keyring';
import type { ReplayStore } from '../stores/replay-store.interface';
import { AccessTokenClaims, signAccessToken, TokenConfirmation, TokenCredential } from './access-token';
import { ChallengeIssuer, challengeSigningInput, IssuedChallenge } from './challenge';
import type { DpopRequest, DpopVerifier } from './dpop.verifier';
import type { RefreshTokenRecord } from './refresh-token.entity';
import { isRefreshTokenFormat, RefreshTokenStore } from './refresh-token.store';
import type { TokenGenerations } from './token-generations';
import type { ResolvedTokenOptions } from './token-options';

/** How the client proved its key: one of the strategies, or a signed challenge. */
export type ProofMethod = AuthMethod | 'challenge';

/** A fresh proof of possession of a client credential: what tokens are issued against. */
export interface KeyProof {
  readonly user: AuthUser;
  readonly keyId: string;
  readonly credential: TokenCredential;
  /** RFC 7638 thumbprint of the key (its registry `fingerprint`), or base64url SHA-256 of the certificate. */
  readonly thumbprint: string;
  /** The credential's effective roles (account roles ∩ the credential's subset) right now. */
  readonly roles: readonly string[];
  readonly method: ProofMethod;
}

/** The answer to a challenge: `signature` over `keypair-auth-challenge:<challenge>`. */
export interface ChallengeAnswer {
  keyId: string;
  challenge: string;
  /** base64url (or base64) of the raw signature, in the key's pinned algorithm (ECDSA as r||s). */
  signature: string;
}

export interface TokenRequest {
  /** Roles to grant: a subset of the credential's effective roles (default: all of them). */
  roles?: readonly string[];
  /** Bind the tokens to the client key (`cnf.jkt` = its fingerprint) or certificate (`cnf.x5t#S256`). */
  bindToKey?: boolean;
  /** A DPoP proof sent with the token request: the tokens are bound to its key. */
  dpop?: { proof: string; request: DpopRequest };
}

/** What the token endpoints answer. */
export interface TokenResponse {
  accessToken: string;
  /** `DPoP` when the access token is DPoP-bound (send it as `Authorization: DPoP` with a proof). */
  tokenType: 'Bearer' | 'DPoP';
  /** Seconds. */
  expiresIn: number;
  /** Absent for certificate logins: those present the certificate again instead. */
  refreshToken?: string;
  refreshTokenExpiresIn?: number;
  roles: string[];
}

export interface TokenServiceSettings extends ResolvedTokenOptions {
  clockSkewMs: number;
}

const SIGNATURE = /^[A-Za-z0-9+/_-]{16,1400}={0,2}$/;

/**
 * Issues and renews tokens: challenges, key proofs, access tokens (signed by the
 * server keyring), rotating refresh tokens, and revocation. Framework-free: the
 * controller adapts HTTP to it; `KeypairAuthModule` exports it for apps that issue
 * tokens from their own routes.
 */
export class TokenService {
  constructor(
    private readonly keyring: ServerKeyring,
    private readonly registry: KeyRegistry,
    private readonly generations: TokenGenerations,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly challenges: ChallengeIssuer,
    private readonly dpop: DpopVerifier,
    private readonly replayStore: ReplayStore,
    readonly settings: TokenServiceSettings,
  ) {}

  /** A single-use challenge for keyId. Looks nothing up: unknown keyIds get the same answer. */
  issueChallenge(keyId: string, now = Date.now()): IssuedChallenge {
    return this.challenges.issue(keyId, now);
  }

  /**
   * Checks a signed challenge: ours, for this keyId, unexpired; signed with the stored
   * key in its pinned algorithm; key and account usable; then claimed once.
   */
  async proveWithChallenge(answer: ChallengeAnswer, now = Date.now()): Promise<KeyProof> {
    const checked = this.challenges.check(answer.keyId, answer.challenge, now);
    if (!SIGNATURE.test(answer.signature))
      throw authError('MALFORMED_CREDENTIALS', 'signature is not base64');
    const signature = Buffer.from(answer.signature.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    const key = await this.registry.findKey(answer.keyId);
    if (
      !key ||
      !verifyWithAlgorithm(key.algorithm, key.keyObject, challengeSigningInput(answer.challenge), signature)
    ) {
      // An unknown key and a bad signature get one answer.
      throw authError(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        `challenge answer for ${answer.keyId} does not verify`,
      );
    }
    const user = assertKeyUsable(key, await this.registry.findUserById(key.userId), now);
    const ttl = checked.expiresAtMs - now + this.settings.clockSkewMs + 1000;
    if (!(await this.replayStore.claim('token-challenge', checked.nonce, ttl))) {
      throw authError('REPLAYED', `challenge reused for ${key.keyId}`);
    }
    this.registry.touch(key.keyId);
    return {
      user,
      keyId: key.keyId,
      credential: 'key',
      thumbprint: key.fingerprint,
      roles: effectiveRoles(user.roles, key.roles),
      method: 'challenge',
    };
  }

  /**
   * A key proof from a request that one of the strategies authenticated. An access
   * token is not one (tokens are never exchanged for tokens), nor is a shared HMAC
   * secret or a subject-DN-only certificate mapping: neither is a revocable key.
   */
  async proveWithContext(context: SecurityContext): Promise<KeyProof> {
    const proof = await keyProofOf(context, this.registry);
    if (proof.kind === 'none') throw authError('KEY_PROOF_REQUIRED', proof.reason);
    const common = { user: context.user, roles: context.roles, method: context.method };
    return proof.kind === 'certificate'
      ? {
          ...common,
          keyId: context.keyId,
          credential: 'certificate',
          thumbprint: Buffer.from(proof.fingerprint, 'hex').toString('base64url'),
        }
      : { ...common, keyId: proof.key.keyId, credential: 'key', thumbprint: proof.key.fingerprint };
  }

  /** Issues an access token (and, for keys, the first refresh token of a new family). */
  async issue(proof: KeyProof, request: TokenRequest = {}, now = Date.now()): Promise<TokenResponse> {
    const roles = request.roles ? [...new Set(request.roles)] : [...proof.roles];
    const exceeding = roles.filter((r) => !proof.roles.includes(r));
    if (exceeding.length > 0) {
      throw new KeypairRequestException(
        'ROLES_EXCEED_CREDENTIAL',
        `A token can only carry the effective roles of the credential that asks for it; not granted: ${exceeding.join(', ')}.`,
        HttpStatus.FORBIDDEN,
      );
    }
    const dpopJkt = request.dpop
      ? (await this.dpop.verify(request.dpop.proof, request.dpop.request, {}, now)).jkt
      : undefined;
    const cnf = confirmation(proof, request.bindToKey === true, dpopJkt);
    if (!cnf && this.settings.dpop.required) {
      throw authError('DPOP_PROOF_REQUIRED', 'this server only issues bound tokens (tokens.dpop.required)');
    }
    const generation = await this.generations.fresh(proof.user.id);
    const access = await this.accessToken(
      proof.user.id,
      proof.keyId,
      proof.credential,
      roles,
      generation,
      cnf,
      now,
    );
    if (proof.credential !== 'key') return { ...access, roles };
    const refresh = await this.refreshTokens.create(
      {
        familyId: randomUUID(),
        userId: proof.user.id,
        keyId: proof.keyId,
        roles,
        jkt: cnf?.jkt ?? null,
        generation,
        familyExpiresAt: now + this.settings.refreshFamilyMaxAgeMs,
      },
      now,
    );
    return {
      ...access,
      refreshToken: refresh.token,
      refreshTokenExpiresIn: Math.floor((refresh.expiresAt - now) / 1000),
      roles,
    };
  }

  /**
   * Exchanges a refresh token for a new access token and a new refresh token. The
   * presented token is spent (one conditional UPDATE: of concurrent uses one wins);
   * a spent token presented again revokes its whole family (RFC 9700 §4.14.2). Key,
   * account and generation are read fresh from the database, not from a cache.
   */
  async refresh(
    refreshToken: string,
    dpop: { proof: string | undefined; request: DpopRequest },
    now = Date.now(),
  ): Promise<TokenResponse> {
    if (!isRefreshTokenFormat(refreshToken)) throw authError('REFRESH_TOKEN_INVALID', 'not a refresh token');
    const row = await this.refreshTokens.find(refreshToken);
    if (!row) throw authError('REFRESH_TOKEN_INVALID', 'unknown refresh token');
    if (row.revokedAt) throw authError('TOKEN_REVOKED', `refresh token family ${row.familyId} is revoked`);
    await this.proveBinding(row, dpop, now);
    if (row.usedAt) return this.reused(row, now);
    if (row.expiresAt.getTime() <= now) throw authError('REFRESH_TOKEN_INVALID', 'refresh token expired');

    const state = await this.currentState(row, now);
    if ('code' in state) {
      await this.refreshTokens.revokeFamily(row.familyId, now);
      throw authError(state.code, state.reason);
    }
    if (!(await this.refreshTokens.consume(row.id, now))) {
      const again = await this.refreshTokens.find(refreshToken);
      if (again?.revokedAt)
        throw authError('TOKEN_REVOKED', `refresh token family ${row.familyId} is revoked`);
      if (again?.usedAt) return this.reused(row, now);
      throw authError('REFRESH_TOKEN_INVALID', 'refresh token expired');
    }
    // A concurrent reuse may have revoked the family between our read and our update.
    if (await this.refreshTokens.familyRevoked(row.familyId)) {
      await this.refreshTokens.revokeFamily(row.familyId, now);
      throw authError('TOKEN_REVOKED', `refresh token family ${row.familyId} is revoked`);
    }
    const roles = row.roles.filter((r) => state.roles.includes(r));
    const cnf = row.jkt !== null ? { jkt: row.jkt } : undefined;
    const access = await this.accessToken(row.userId, row.keyId, 'key', roles, state.generation, cnf, now);
    const refresh = await this.refreshTokens.create(
      {
        familyId: row.familyId,
        userId: row.userId,
        keyId: row.keyId,
        roles: row.roles,
        jkt: row.jkt,
        generation: state.generation,
        familyExpiresAt: row.familyExpiresAt.getTime(),
      },
      now,
    );
    return {
      ...access,
      refreshToken: refresh.token,
      refreshTokenExpiresIn: Math.floor((refresh.expiresAt - now) / 1000),
      roles,
    };
  }

  /**
   * Revokes the family of a refresh token (logout). Unknown tokens are ignored (RFC 7009).
   * A DPoP-bound family needs a proof by its key for this request, as refreshing does: a
   * stolen bound refresh token cannot log its owner out.
   */
  async revokeRefreshToken(
    refreshToken: string,
    dpop?: { proof: string | undefined; request: DpopRequest },
    now = Date.now(),
  ): Promise<void> {
    if (!isRefreshTokenFormat(refreshToken)) return;
    const row = await this.refreshTokens.find(refreshToken);
    if (!row) return;
    await this.proveBinding(row, dpop, now);
    await this.refreshTokens.revokeFamily(row.familyId, now);
  }

  /**
   * A bound family (`jkt`) is only used, refreshed or revoked, by the key holder: a DPoP
   * proof of that key for this request. Checked before anything that changes the family
   * (a spent token presented again revokes it), so a stolen bound token changes nothing.
   */
  private async proveBinding(
    row: RefreshTokenRecord,
    dpop: { proof: string | undefined; request: DpopRequest } | undefined,
    now: number,
  ): Promise<void> {
    if (row.jkt === null) return;
    if (dpop?.proof === undefined)
      throw authError('DPOP_PROOF_REQUIRED', 'DPoP-bound refresh token without a proof');
    await this.dpop.verify(dpop.proof, dpop.request, { jkt: row.jkt }, now);
  }

  /**
   * Revokes every token of a user: bumps the token generation (access tokens are
   * refused at once on this instance, on others within keyCache.ttlSeconds) and
   * revokes every refresh-token family (at once everywhere: refreshing reads the database).
   */
  async revokeUserTokens(
    userId: string,
    now = Date.now(),
  ): Promise<{ generation: number; refreshTokensRevoked: number }> {
    const generation = await this.generations.bump(userId, new Date(now));
    // Other instances drop their cached generation (and account) through the invalidation bus.
    this.registry.forgetUser(userId);
    const refreshTokensRevoked = await this.refreshTokens.revokeUser(userId, now);
    return { generation, refreshTokensRevoked };
  }

  /**
   * Revokes the refresh-token families issued through a key. Revoking the key itself
   * already does this in effect (refreshing checks the key, access tokens check it
   * through the key cache); this also marks the rows.
   */
  revokeKeyTokens(keyId: string, now = Date.now()): Promise<number> {
    return this.refreshTokens.revokeKey(keyId, now);
  }

  private async reused(row: RefreshTokenRecord, now: number): Promise<never> {
    await this.refreshTokens.revokeFamily(row.familyId, now);
    throw authError('REFRESH_TOKEN_REUSED', `refresh token of family ${row.familyId} presented again`);
  }

  /** Key, account and generation as stored now; a code when the family must end. */
  private async currentState(
    row: RefreshTokenRecord,
    now: number,
  ): Promise<{ roles: string[]; generation: number } | { code: AuthErrorCode; reason: string }> {
    const [key, user, generation] = await Promise.all([
      backend(() => this.registry.getKeyView(row.keyId)),
      backend(() => this.registry.directory.findById(row.userId)),
      this.generations.fresh(row.userId),
    ]);
    if (!key || key.userId !== row.userId) return { code: 'KEY_REVOKED', reason: `key ${row.keyId} is gone` };
    if (key.revokedAt !== null) return { code: 'KEY_REVOKED', reason: `key ${row.keyId} revoked` };
    if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now) {
      return { code: 'KEY_EXPIRED', reason: `key ${row.keyId} expired` };
    }
    if (!user) return { code: 'TOKEN_REVOKED', reason: `user ${row.userId} is gone` };
    if (!user.active) return { code: 'USER_INACTIVE', reason: `user ${user.username} inactive` };
    if (row.generation < generation) {
      return {
        code: 'TOKEN_REVOKED',
        reason: `tokens of ${user.username} revoked (generation ${generation})`,
      };
    }
    return { roles: effectiveRoles(user.roles, key.roles), generation };
  }

  private async accessToken(
    userId: string,
    keyId: string,
    credential: TokenCredential,
    roles: string[],
    generation: number,
    cnf: TokenConfirmation | undefined,
    now: number,
  ): Promise<Pick<TokenResponse, 'accessToken' | 'tokenType' | 'expiresIn'>> {
    const iat = Math.floor(now / 1000);
    const expiresIn = Math.floor(this.settings.accessTokenTtlMs / 1000);
    const claims: AccessTokenClaims = {
      sub: userId,
      key_id: keyId,
      cred: credential,
      roles,
      gen: generation,
      jti: randomBytes(16).toString('base64url'),
      iat,
      exp: iat + expiresIn,
      ...(this.settings.issuer !== null ? { iss: this.settings.issuer } : {}),
      ...(this.settings.audience !== null ? { aud: this.settings.audience } : {}),
      ...(cnf ? { cnf } : {}),
    };
    return {
      accessToken: await signAccessToken(this.keyring, claims),
      tokenType: cnf?.jkt !== undefined ? 'DPoP' : 'Bearer',
      expiresIn,
    };
  }
}

function confirmation(
  proof: KeyProof,
  bindToKey: boolean,
  dpopJkt: string | undefined,
): TokenConfirmation | undefined {
  if (dpopJkt !== undefined) {
    if (bindToKey && (proof.credential !== 'key' || dpopJkt !== proof.thumbprint)) {
      throw new KeypairRequestException(
        'VALIDATION_FAILED',
        'bindToKey binds the tokens to the client key, but the DPoP proof is signed with another key; send one or the other.',
      );
    }
    return { jkt: dpopJkt };
  }
  if (!bindToKey) return undefined;
  return proof.credential === 'key' ? { jkt: proof.thumbprint } : { 'x5t#S256': proof.thumbprint };
}

async function backend<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new KeyStoreUnavailableError(error instanceof Error ? error.message : String(error));
  }
}
