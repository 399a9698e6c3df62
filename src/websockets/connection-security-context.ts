import type { SecurityContext } from '../context/security-context';
import { SECURITY_CONTEXT_PROPERTY } from '../context/security-context.request';

/**
 * Puts the handshake's SecurityContext on the connection (a `ws` WebSocket or a
 * socket.io Socket), where KeypairAuthGuard, RolesGuard and @CurrentSecurityContext()
 * read it for every message. Read-only and not configurable: no handler, message or
 * middleware can swap the identity of an open connection.
 */
export function attachSecurityContext(connection: object, context: SecurityContext): void {
  for (const property of [SECURITY_CONTEXT_PROPERTY, 'user']) {
    Object.defineProperty(connection, property, {
      value: context,
      writable: false,
      enumerable: false,
      configurable: false,
    });
  }
}
