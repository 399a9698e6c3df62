import { Logger } from '@nestjs/common';
import type { AuthMethod, SecurityContext } from '../context/security-context';
import { getSecurityContext } from '../context/security-context.request';
import { AuthRequest, headerValues, toAuthRequest } from '../http/auth-request';
import { KEYPAIR_CLIENT_CERTIFICATE_STRATEGY } from '../certificate-strategy/client-certificate.strategy';
import { KEYPAIR_JWT_STRATEGY } from '../jwt/asymmetric-jwt.strategy';
import { claimedIdentity } from '../throttle/throttle-keys';
import { KEYPAIR_ACCESS_TOKEN_STRATEGY } from '../tokens/access-token.strategy';
import type { AuditLogMode, AuthEvent, AuthEventHandler } from './auth-event';

const MAX_CLAIMED_KEY_ID = 128;

/** The AuthMethod of a strategy that claimed a request (the signature strategy is refined by headers). */
const STRATEGY_METHODS: Readonly<Record<string, AuthMethod>> = {
  [KEYPAIR_JWT_STRATEGY]: 'jwt',
  [KEYPAIR_ACCESS_TOKEN_STRATEGY]: 'access-token',
  [KEYPAIR_CLIENT_CERTIFICATE_STRATEGY]: 'client-certificate',
};

/** What a failure is, as authFailure() mapped it. */
export interface AuthFailureDetails {
  readonly status: number;
  readonly code: string | null;
  readonly reason: string;
}

/**
 * Emits one AuthEvent per authentication decision: a JSON line on the `KeypairAuth`
 * logger (failures at `warn`, successes at `log` with `auditLog: 'all'`) and a call of
 * `onAuthEvent`. The hook runs synchronously before the response is sent: keep it
 * cheap (queue the event, don't await a network call in it); what it throws or
 * rejects is logged and never changes the decision. Events carry identifiers only,
 * never a credential.
 */
export class AuthAudit {
  private readonly logger = new Logger('KeypairAuth');

  constructor(
    readonly mode: AuditLogMode = 'failures',
    private readonly handler?: AuthEventHandler,
  ) {}

  /** True when a success has somewhere to go; the guard skips building the event otherwise. */
  get recordsSuccesses(): boolean {
    return this.mode === 'all' || this.handler !== undefined;
  }

  /** A success: a SecurityContext, or what a challenge answer proved. */
  success(
    context: Pick<SecurityContext, 'keyId' | 'username'> & { readonly method: AuthMethod | 'challenge' },
    req: unknown,
  ): void {
    if (!this.recordsSuccesses) return;
    const request = toAuthRequest(req);
    this.emit({
      event: 'auth.success',
      time: new Date().toISOString(),
      outcome: 'success',
      authMethod: context.method,
      keyId: context.keyId,
      claimedKeyId: null,
      username: context.username,
      remoteAddress: request.remoteAddress ?? null,
      method: request.method,
      path: pathOf(request),
      status: 200,
      code: null,
      reason: null,
    });
  }

  /** `strategy`: the name of the strategy that claimed the request, when one did. */
  failure(details: AuthFailureDetails, req: unknown, strategy?: string): void {
    const request = toAuthRequest(req);
    // A failure after authentication (a 403 for a role) knows who it was.
    const context = getSecurityContext(req);
    const claimed = context ? undefined : claimedIdentity(request.rawHeaders);
    this.emit({
      event: 'auth.failure',
      time: new Date().toISOString(),
      outcome: 'failure',
      authMethod:
        context?.method ??
        (strategy === undefined ? undefined : STRATEGY_METHODS[strategy]) ??
        credentialKind(request, details.code),
      keyId: context?.keyId ?? null,
      claimedKeyId: claimed?.keyId?.slice(0, MAX_CLAIMED_KEY_ID) ?? null,
      username: context?.username ?? null,
      remoteAddress: request.remoteAddress ?? null,
      method: request.method,
      path: pathOf(request),
      status: details.status,
      code: details.code,
      reason: details.reason.slice(0, 300),
    });
  }

  private emit(event: AuthEvent): void {
    const frozen = Object.freeze(event);
    if (this.mode === 'all' || (this.mode === 'failures' && event.outcome === 'failure')) {
      const line = JSON.stringify(frozen);
      if (event.outcome === 'failure') this.logger.warn(line);
      else this.logger.log(line);
    }
    if (!this.handler) return;
    try {
      const result = this.handler(frozen);
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (error: unknown) => this.hookFailed(error));
      }
    } catch (error) {
      this.hookFailed(error);
    }
  }

  private hookFailed(error: unknown): void {
    this.logger.error(`onAuthEvent failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function pathOf(request: AuthRequest): string {
  return request.url.split('?', 1)[0].slice(0, 200);
}

/** The kind of credential a refused request carried, from its headers alone. */
export function credentialKind(request: AuthRequest, code: string | null): AuthMethod | null {
  if (code?.startsWith('CERT_')) return 'client-certificate';
  const raw = request.rawHeaders;
  if (headerValues(raw, 'signature-input').length > 0) return 'http-signature-rfc9421';
  const authorization = headerValues(raw, 'authorization')[0]?.trimStart() ?? '';
  if (headerValues(raw, 'signature').length > 0 || /^signature\s/i.test(authorization))
    return 'http-signature-cavage';
  if (/^dpop\s/i.test(authorization) || headerValues(raw, 'dpop').length > 0) return 'access-token';
  if (/^(jwt|bearer)\s/i.test(authorization)) {
    return /^bearer\s/i.test(authorization) && isAccessTokenShaped(authorization) ? 'access-token' : 'jwt';
  }
  return null;
}

function isAccessTokenShaped(authorization: string): boolean {
  const segment = /^bearer\s+([A-Za-z0-9_-]{1,4096})\./i.exec(authorization)?.[1];
  if (!segment) return false;
  try {
    return (
      (JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as { typ?: unknown })?.typ === 'at+jwt'
    );
  } catch {
    return false;
  }
}
