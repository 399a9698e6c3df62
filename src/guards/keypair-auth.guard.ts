import { CanActivate, ExecutionContext, HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PUBLIC_METADATA } from '../context/public.decorator';
import { ROLES_METADATA } from '../context/roles.decorator';
import { assertRoles } from '../context/roles.guard';
import { SecurityContext } from '../context/security-context';
import {
  getSecurityContext,
  RequestWithSecurityContext,
  SECURITY_CONTEXT_PROPERTY,
} from '../context/security-context.request';
import { authError } from '../errors/keypair-auth.exception';
import { toAuthRequest } from '../http/auth-request';
import { readAuthorization } from '../http/authorization-header';
import { KEYPAIR_AUTH_PASSPORT } from '../keypair-auth.internal-constants';
import { SIGNATURE_POLICY_METADATA } from '../signature-strategy/require-signature.decorator';
import { ROUTE_SIGNATURE_POLICY } from '../signature-strategy/http-signature.strategy';
import type { SignaturePolicyOverride } from '../signature-strategy/signature-policy';
import { authFailure } from './auth-failure';
import { PassportRegistry } from './passport-registry';

/**
 * Authenticates a request with the one strategy its credentials call for, puts the
 * SecurityContext on the request, and enforces @Roles(). Fails closed: whatever
 * goes wrong ends in a 401/403/503 with a stable code, never in "authenticated
 * anyway" and never in a 500. Behaviour lives in protected methods so an app can
 * subclass it (to log differently, or to pick strategies by its own rule).
 */
@Injectable()
export class KeypairAuthGuard implements CanActivate {
  protected readonly logger = new Logger('KeypairAuth');

  constructor(
    protected readonly reflector: Reflector,
    @Inject(KEYPAIR_AUTH_PASSPORT) protected readonly registry: PassportRegistry,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<RequestWithSecurityContext>();
    // A global guard plus @UseGuards(KeypairAuthGuard) runs twice on one request: the
    // second run must reuse the context, not verify (and claim the nonce) again.
    let securityContext = getSecurityContext(req);
    if (!securityContext) {
      try {
        const policy = this.reflector.getAllAndOverride<SignaturePolicyOverride | undefined>(
          SIGNATURE_POLICY_METADATA,
          targets,
        );
        if (policy)
          (req as { [ROUTE_SIGNATURE_POLICY]?: SignaturePolicyOverride })[ROUTE_SIGNATURE_POLICY] = policy;
        const strategy = this.selectStrategy(req);
        securityContext = await this.registry.authenticate<SecurityContext>(
          strategy,
          req,
          http.getResponse(),
        );
      } catch (error) {
        throw this.failure(error, req, http.getResponse());
      }
    }
    req[SECURITY_CONTEXT_PROPERTY] = securityContext;
    req.user = securityContext;
    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_METADATA, targets);
    if (required && required.length > 0) {
      try {
        assertRoles(securityContext, required);
      } catch (error) {
        throw this.failure(error, req, http.getResponse());
      }
    }
    return true;
  }

  /** Picks the strategy from what the request carries; once, no fallback chain. */
  protected selectStrategy(req: unknown): string {
    const request = toAuthRequest(req);
    const entry = this.registry.select(request);
    if (entry) return entry.name;
    const authorization = readAuthorization(request);
    if (authorization)
      throw authError('MALFORMED_CREDENTIALS', 'no enabled strategy accepts this Authorization scheme');
    throw authError('CREDENTIALS_MISSING', 'no credentials in the request');
  }

  /** Maps any failure to a client-safe exception, logs the reason, sets the 401 challenge. */
  protected failure(error: unknown, req: unknown, res: unknown): HttpException {
    return authFailure(error, req, res, this.logger, this.registry);
  }
}
