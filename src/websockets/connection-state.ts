import type { HttpException } from '@nestjs/common';

/**
 * What the guard needs to know, per message, about the credential of an open connection:
 * whether it has ended, and whether a re-check triggered by a revocation is still running.
 * Kept on the connection under a symbol (set by ConnectionLifetime), so the guard reads it
 * without importing an adapter, `ws` or socket.io.
 */
export interface ConnectionState {
  /** The refusal the connection was closed with, once its credential ended. */
  ended: HttpException | null;
  /** A re-check after a revocation or account change that concerns this connection. */
  pending: Promise<void> | null;
}

const CONNECTION_STATE = Symbol('keypair-auth.connectionState');

export function setConnectionState(connection: object, state: ConnectionState): void {
  Object.defineProperty(connection, CONNECTION_STATE, { value: state, enumerable: false });
}

/**
 * For each message: waits for a re-check a revocation started (so a message sent right
 * after `revoke()` is not let through while the key is looked up again), then throws the
 * refusal of a connection whose credential has ended. A connection that no adapter
 * watches has no state and passes (the guard still requires its SecurityContext).
 */
export async function assertConnectionCurrent(connection: object): Promise<void> {
  const state = (connection as { [CONNECTION_STATE]?: ConnectionState })[CONNECTION_STATE];
  if (!state) return;
  if (state.pending) await state.pending;
  if (state.ended) throw state.ended;
}
