import { INestApplication } from '@nestjs/common';
import { IncomingMessage, Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { KeypairAuthConfigurationError } from '../errors/configuration.error';
import { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import { authenticateHandshake, HandshakeRefusal, refusalBody } from './handshake-authentication';

export interface KeypairAuthGraphqlWsGateOptions {
  /**
   * The path of the graphql-ws endpoint (the GraphQLModule `path`, or `subscriptions['graphql-ws'].path`):
   * default `/graphql`. Matched as @nestjs/graphql matches it, by prefix of the request target,
   * so every upgrade its subscription server would take is authenticated first.
   */
  readonly path?: string;
}

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Marks a server already gated, so a second call does not authenticate twice. */
const GATED = Symbol('keypairAuthGraphqlWsGate');

/**
 * Authenticates every WebSocket upgrade request to the graphql-ws endpoint before the
 * socket opens, with the module's KeypairAuthGuard, exactly as an HTTP request: the one
 * strategy its headers call for (an RFC 9421 or Cavage signature over the GET, a client JWT,
 * an access token, a client certificate), the throttle, the audit event, the nonce claimed once.
 * A refusal is the HTTP answer of the guard (401/403/429/503 with `{statusCode, code, message}`,
 * `WWW-Authenticate`, `Retry-After`), and the socket is closed: no WebSocket is opened.
 * An accepted request carries its SecurityContext into graphql-ws (`extra.request`), where
 * the guard on subscription resolvers finds it and does not authenticate again.
 *
 * Call it after `await app.init()` (the GraphQL module adds its upgrade handler then) and
 * before `app.listen()`. It wraps the HTTP server's upgrade handlers: any added later would
 * not be gated, which is why keypairAuthGraphqlWsOptions() also refuses, at `connection_init`,
 * a connection whose request carries no SecurityContext (close code 4403).
 */
export function keypairAuthGraphqlWs(
  app: INestApplication,
  options: KeypairAuthGraphqlWsGateOptions = {},
): void {
  const path = options.path ?? '/graphql';
  if (!path.startsWith('/')) {
    throw KeypairAuthConfigurationError.create(
      `keypairAuthGraphqlWs: path ${JSON.stringify(path)} does not start with "/".`,
      'Pass the path of the graphql-ws endpoint, e.g. { path: "/graphql" }.',
    );
  }
  const guard = app.get(KeypairAuthGuard, { strict: false });
  const server = app.getHttpServer() as Server & { [GATED]?: true };
  if (server[GATED]) return;
  const listeners = server.listeners('upgrade') as UpgradeListener[];
  if (listeners.length === 0) {
    throw KeypairAuthConfigurationError.create(
      'keypairAuthGraphqlWs: the HTTP server has no WebSocket upgrade handler to protect.',
      "Call it after `await app.init()`, with `subscriptions: { 'graphql-ws': … }` in the GraphQLModule options.",
    );
  }
  for (const listener of listeners) server.removeListener('upgrade', listener);
  const forward = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    for (const listener of listeners) listener.call(server, req, socket, head);
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!(req.url ?? '').startsWith(path)) return forward(req, socket, head);
    // Node leaves an upgraded socket without an error handler: a client that resets while
    // the guard works must not crash the process.
    const ignore = (): void => {};
    socket.on('error', ignore);
    void authenticateHandshake(guard, req).then((refusal) => {
      socket.removeListener('error', ignore);
      if (socket.destroyed) return;
      if (refusal) return refuse(socket, refusal);
      forward(req, socket, head);
    });
  });
  server[GATED] = true;
}

/** Answers the upgrade with the guard's status and JSON body, then closes the socket. */
function refuse(socket: Duplex, refusal: HandshakeRefusal): void {
  const { status, body, headers } = refusalBody(refusal);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
