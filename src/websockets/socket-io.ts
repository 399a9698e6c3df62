/**
 * nestjs-keypair-auth/socket.io: Nest's socket.io adapter with the handshake authenticated
 * by KeypairAuthModule (needs @nestjs/websockets and @nestjs/platform-socket.io).
 */
export { KeypairAuthIoAdapter } from './keypair-auth-io.adapter';
export type { KeypairAuthIoAdapterOptions } from './keypair-auth-io.adapter';
export * from './websocket-exports';
