/**
 * The close codes a connection authenticated by its handshake is closed with. 4000–4999
 * are the application's range (RFC 6455 §7.4.2); the reason of the close frame is the
 * stable error code (docs/errors.md), e.g. `KEY_REVOKED`.
 */
export const WS_CLOSE_CODES = {
  /** The credential that opened the connection no longer holds: expired, revoked, account inactive. */
  CREDENTIAL_ENDED: 4401,
  /** The account lost a role the connection was given at its handshake (reason ROLE_REQUIRED). */
  ROLES_CHANGED: 4403,
  /** The credential could not be checked again (key store or database down): closed, fail closed. */
  AUTH_UNAVAILABLE: 4503,
  /** RFC 6455 policy violation: a connection without an authenticated handshake (never opened by the adapters). */
  POLICY_VIOLATION: 1008,
} as const;

/** The close code for a refusal of the given HTTP status: 503 an outage, 403 a lost role, else the credential. */
export function closeCodeFor(status: number): number {
  if (status === 503) return WS_CLOSE_CODES.AUTH_UNAVAILABLE;
  return status === 403 ? WS_CLOSE_CODES.ROLES_CHANGED : WS_CLOSE_CODES.CREDENTIAL_ENDED;
}

/**
 * What a socket.io client receives (event `exception`) before the server disconnects
 * it, and what a `ws` client reads from the close frame (code and reason).
 */
export interface ConnectionEnded {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** The WebSocket close code (4401, 4403 or 4503). */
  readonly closeCode: number;
}
