import type { CertificateRegistry } from '../certificate-strategy/certificate-registry';
import type { SecurityContext } from '../context/security-context';
import { authError } from '../errors/keypair-auth.exception';
import { toAuthRequest } from '../http/auth-request';
import { readAuthorization } from '../http/authorization-header';
import type { CacheInvalidation } from '../keys/cache-invalidation.interface';
import { assertKeyUsable } from '../keys/credential-checks';
import type { KeyRegistry } from '../keys/key-registry';
import type { AccessTokenAuthenticator } from '../tokens/access-token.authenticator';
import type { WebBotAuthAuthenticator } from '../web-bot-auth/web-bot-auth.authenticator';

/** How an open connection finds out that the credential of its handshake no longer holds. */
export interface LivenessCheck {
  /** Connections opened by one credential share one check per round. */
  readonly id: string;
  /** Throws the coded refusal (as for a new request) once the credential would be refused. */
  readonly check: (now: number) => Promise<void>;
  /** Whether a cache invalidation (a revocation, an account change) concerns this credential. */
  readonly affectedBy: (event: CacheInvalidation) => boolean;
}

/**
 * Builds the re-check of a connection's credential from the checks a new request would
 * get that can change while the connection is open, all through the cached registries
 * (a warm cache makes no query):
 * - a key (signed request, client JWT): revoked, expired, gone, its account inactive;
 * - an HMAC shared secret: its account inactive (the secret itself is configuration);
 * - a client certificate: its registration revoked, its dates and CRL state, the account;
 * - an access token: its `exp`, its key or certificate, the account, the token generation;
 * - a Web Bot Auth agent: its key still in the agent's directory (from the directory cache), the account.
 * A role the account has lost since the handshake ends the connection too (its context
 * is frozen with the roles of the handshake).
 */
export class CredentialLiveness {
  constructor(
    private readonly keys: KeyRegistry,
    private readonly hmacKeyIds: ReadonlySet<string>,
    private readonly certificates: CertificateRegistry | null,
    private readonly accessTokens: AccessTokenAuthenticator | null,
    private readonly webBotAuth: WebBotAuthAuthenticator | null = null,
  ) {}

  /** At the handshake, right after it authenticated `req` as `context`. */
  async watch(context: SecurityContext, req: object): Promise<LivenessCheck> {
    const userId = context.user.id;
    const byUser = (event: CacheInvalidation) => event.kind === 'user' && event.userId === userId;
    const byIds = (ids: string[]) => (event: CacheInvalidation) =>
      byUser(event) || (event.kind === 'key' && ids.some((id) => event.ids.includes(id)));
    const account = () => this.assertAccount(context);

    if (context.method === 'access-token' && this.accessTokens) {
      const accessTokens = this.accessTokens;
      const claims = await accessTokens.verify(this.bearerToken(req));
      return {
        id: `access-token:${claims.jti}`,
        affectedBy: byIds([claims.key_id]),
        check: async (now) => {
          if (claims.exp * 1000 <= now)
            throw authError('TOKEN_EXPIRED', `access token ${claims.jti} expired`);
          await accessTokens.assertCurrent(claims, now);
          await account();
        },
      };
    }
    if (context.method === 'client-certificate') {
      const fingerprint = context.keyId;
      return {
        id: `certificate:${fingerprint}:${userId}`,
        affectedBy: byIds([fingerprint]),
        check: async (now) => {
          const registration = await this.certificates?.findByFingerprint(fingerprint);
          if (registration?.revokedAt != null && registration.revokedAt <= now) {
            throw authError('CERT_REVOKED', `certificate ${fingerprint} revoked`);
          }
          await this.certificates?.assertCertificateCurrent(fingerprint);
          await account();
        },
      };
    }
    if (context.method === 'web-bot-auth') {
      const agent = context.agent;
      const webBotAuth = this.webBotAuth;
      // Only the Web Bot Auth strategy makes such a context; without it, or its agent, refuse.
      if (!agent || !webBotAuth) {
        throw authError('AUTHENTICATION_FAILED', 'a web-bot-auth context without its agent or verifier');
      }
      return {
        id: `web-bot-auth:${agent.origin}:${agent.thumbprint}:${userId}`,
        affectedBy: byUser,
        check: async (now) => {
          await webBotAuth.assertAgentKey(agent, now);
          await account();
        },
      };
    }
    if (this.hmacKeyIds.has(context.keyId)) {
      return { id: `hmac:${context.keyId}:${userId}`, affectedBy: byUser, check: account };
    }
    const keyId = context.keyId;
    return {
      id: `key:${keyId}:${userId}`,
      affectedBy: byIds([keyId]),
      check: async (now) => {
        const key = await this.keys.findKey(keyId);
        if (!key || key.userId !== userId) {
          throw authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', `key ${keyId} is gone or not ${userId}'s`);
        }
        assertKeyUsable(key, await this.keys.findUserById(userId), now);
        await account();
      },
    };
  }

  /** The account still exists, is active, and holds every role the connection was given. */
  private async assertAccount(context: SecurityContext): Promise<void> {
    const user = await this.keys.findUserById(context.user.id);
    if (!user) {
      throw authError(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        `owner ${context.user.id} of the connection not found`,
      );
    }
    if (!user.active) throw authError('USER_INACTIVE', `user ${user.username} inactive`);
    const lost = context.roles.filter((role) => !user.roles.includes(role));
    if (lost.length > 0) {
      throw authError(
        'ROLE_REQUIRED',
        `user ${user.username} lost role(s) ${lost.join(',')} since the handshake`,
      );
    }
  }

  /** The access token the handshake carried (the strategy accepted it, so it is there). */
  private bearerToken(req: object): string {
    const authorization = readAuthorization(toAuthRequest(req));
    if (!authorization) throw authError('CREDENTIALS_MISSING', 'handshake without its access token');
    return authorization.credentials;
  }
}
