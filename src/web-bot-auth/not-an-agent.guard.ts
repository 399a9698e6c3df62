import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { getSecurityContext } from '../context/security-context.request';
import { authError } from '../errors/keypair-auth.exception';

/**
 * Refuses Web Bot Auth agents (403 WEB_BOT_AUTH_AGENT_FORBIDDEN), after KeypairAuthGuard:
 * an agent is a third party the operator maps onto an account, often many agents onto one,
 * to use the app's routes as it. It never manages keys, certificates, users or tokens (the
 * self-service and admin APIs), whatever roles its subset holds: a key it added there would
 * outlive its directory and the allowlist.
 */
@Injectable()
export class NotAnAgentGuard implements CanActivate {
  private readonly logger = new Logger('KeypairAuth');

  canActivate(context: ExecutionContext): boolean {
    const securityContext = getSecurityContext(context.switchToHttp().getRequest());
    if (securityContext?.method === 'web-bot-auth') {
      const refusal = authError(
        'WEB_BOT_AUTH_AGENT_FORBIDDEN',
        `agent ${securityContext.agent?.origin} (as ${securityContext.username}) on a key, user or token management route`,
      );
      // The authentication succeeded (and was audited as such): the refusal is logged here.
      this.logger.warn(JSON.stringify({ event: 'auth.refused', code: refusal.code, reason: refusal.reason }));
      throw refusal;
    }
    return true;
  }
}
