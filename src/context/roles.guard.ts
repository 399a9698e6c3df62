import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { exceptionForContext } from '../errors/context-exception';
import { authError, KeypairAuthException } from '../errors/keypair-auth.exception';
import { assertConnectionCurrent } from '../websockets/connection-state';
import { executionTarget } from './execution-target';
import { PUBLIC_METADATA } from './public.decorator';
import { ROLES_METADATA } from './roles.decorator';
import { SecurityContext } from './security-context';
import { getSecurityContext } from './security-context.request';

/**
 * Enforces @Roles() from the SecurityContext. KeypairAuthGuard already applies the
 * same check, so this guard is for routes authenticated some other way, or for apps
 * that want the two steps apart. Without a context it refuses (401), never allows.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(protected readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_METADATA, targets);
    if (!required || required.length === 0) return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;
    const { kind, req } = executionTarget(context);
    if (kind === 'ws' && req) return this.activateMessage(req, required);
    try {
      const securityContext = req && getSecurityContext(req);
      if (!securityContext) throw authError('CREDENTIALS_MISSING', 'roles required but no SecurityContext');
      assertRoles(securityContext, required);
    } catch (error) {
      throw exceptionForContext(error as KeypairAuthException, kind);
    }
    return true;
  }

  /**
   * A WebSocket message: held to its connection as KeypairAuthGuard holds it (a credential
   * that ended, or a re-check still running after a revocation, refuses the message, also
   * while a closing connection still delivers frames), then to the roles.
   */
  private async activateMessage(connection: object, required: readonly string[]): Promise<boolean> {
    try {
      await assertConnectionCurrent(connection);
      const securityContext = getSecurityContext(connection);
      if (!securityContext) throw authError('CREDENTIALS_MISSING', 'roles required but no SecurityContext');
      if (securityContext.expiresAt !== null && securityContext.expiresAt <= Date.now())
        throw authError(
          'TOKEN_EXPIRED',
          `credential of ${securityContext.keyId} expired during the connection`,
        );
      assertRoles(securityContext, required);
    } catch (error) {
      throw exceptionForContext(error as KeypairAuthException, 'ws');
    }
    return true;
  }
}

export function assertRoles(securityContext: SecurityContext, required: readonly string[]): void {
  const missing = required.filter((r) => !securityContext.hasRole(r));
  if (missing.length > 0) {
    throw authError('ROLE_REQUIRED', `missing role(s) ${missing.join(',')} for ${securityContext.username}`);
  }
}
