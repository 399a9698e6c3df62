/**
 * Upgrade requests the library authenticated as WebSocket handshakes (the adapters of
 * `nestjs-keypair-auth/websockets` and `/socket.io`, and the graphql-ws gate). Operations
 * on such a connection (graphql-ws queries, mutations, subscriptions) reach the guard with
 * this request as theirs: each is its own action on a long-lived connection, not one field
 * of one HTTP request. Marked by the server, never read from a header: a client sending
 * `Upgrade: websocket` on an ordinary request must not be treated as a connection.
 */
const connectionRequests = new WeakSet<object>();

export function markConnectionRequest(req: object): void {
  connectionRequests.add(req);
}

export function isConnectionRequest(req: object): boolean {
  return connectionRequests.has(req) || connectionRequests.has((req as { raw?: object }).raw ?? req);
}
