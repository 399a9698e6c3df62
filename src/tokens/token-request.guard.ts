import { ExecutionContext, Injectable } from '@nestjs/common';
import type { SecurityContext } from '../context/security-context';
import {
  getSecurityContext,
  RequestWithSecurityContext,
  SECURITY_CONTEXT_PROPERTY,
} from '../context/security-context.request';
import { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import { toAuthRequest } from '../http/auth-request';
import { readAuthorization } from '../http/authorization-header';

/**
 * The guard of `POST /auth/token` (a @Public() route, so an app-wide guard leaves it
 * alone). A request that carries credentials is authenticated here by the strategy
 * they call for, exactly as KeypairAuthGuard does; a request without any passes on
 * to the controller, which then needs the answer to a challenge in the body.
 */
@Injectable()
export class TokenRequestGuard extends KeypairAuthGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<RequestWithSecurityContext>();
    // Already authenticated by another guard on this request: never verify (and claim a nonce) twice.
    if (getSecurityContext(req) || !this.carriesCredentials(req)) return true;
    let securityContext: SecurityContext;
    const res = http.getResponse<unknown>();
    try {
      const request = toAuthRequest(req);
      this.checkThrottle(req, res, request);
      const strategy = this.selectStrategy(req, request);
      securityContext = await this.registry.authenticate<SecurityContext>(strategy, req, res, request);
    } catch (error) {
      throw await this.refuse(error, req, res);
    }
    req[SECURITY_CONTEXT_PROPERTY] = securityContext;
    req.user = securityContext;
    this.audit?.success(securityContext, req);
    return true;
  }

  /** True when any strategy claims the request, or it has an Authorization header at all. */
  protected carriesCredentials(req: unknown): boolean {
    try {
      const request = toAuthRequest(req);
      return this.registry.select(request) !== undefined || readAuthorization(request) !== null;
    } catch {
      return true; // malformed credentials: let selectStrategy report them
    }
  }
}
