/**
 * nestjs-keypair-auth/websockets: Nest's `ws` adapter with the handshake authenticated by
 * KeypairAuthModule (needs @nestjs/websockets, @nestjs/platform-ws and ws). The socket.io
 * adapter is `nestjs-keypair-auth/socket.io`, so neither needs the other's packages.
 */
export { KeypairAuthWsAdapter } from './keypair-auth-ws.adapter';
export type { KeypairAuthWsAdapterOptions } from './keypair-auth-ws.adapter';
export * from './websocket-exports';
