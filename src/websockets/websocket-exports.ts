/** What both WebSocket entry points export besides their adapter. */
export { WS_CLOSE_CODES, closeCodeFor } from './ws-close-codes';
export type { ConnectionEnded } from './ws-close-codes';
export type { WebSocketAuthOptions } from './websocket-authentication';
export { HandshakeAuthenticator } from './handshake-authenticator';
export type { HandshakeOutcome, HandshakeRefusal } from './handshake-authenticator';
export { attachSecurityContext } from './connection-security-context';
