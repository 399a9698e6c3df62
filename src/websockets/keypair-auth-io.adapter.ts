import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { INestApplication } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import { authError } from '../errors/keypair-auth.exception';
import type { HandshakeRefusal } from './handshake-authenticator';
import { WebSocketAuthentication, WebSocketAuthOptions } from './websocket-authentication';
import { WS_CLOSE_CODES } from './ws-close-codes';

/** Options of KeypairAuthIoAdapter. */
export type KeypairAuthIoAdapterOptions = WebSocketAuthOptions;

type EngineMiddleware = (
  req: IncomingMessage,
  res: ServerResponse | object,
  next: (error?: unknown) => void,
) => void;

/**
 * Nest's socket.io adapter with KeypairAuthModule's authentication of the handshake:
 *
 *     app.useWebSocketAdapter(new KeypairAuthIoAdapter(app));
 *
 * - Only the WebSocket transport: an engine.io middleware (it runs before engine.io
 *   handles any request) refuses a polling request and any request that names an
 *   existing session (`sid`) with 400 WS_TRANSPORT_REFUSED. Each polling request is an
 *   HTTP request of its own that a client cannot sign afresh, and engine.io trusts the
 *   `sid` alone for every request after the first: whoever learns a `sid` could poll
 *   or upgrade an authenticated session. Clients connect with `transports: ['websocket']`.
 * - The upgrade request is authenticated through the module's guard; a refusal is the
 *   HTTP status, headers and JSON body of a refused request, and no session is created.
 *   The socket.io `auth` payload and the query string never authenticate.
 * - Every Socket of the connection (one per namespace) carries the SecurityContext,
 *   read-only; @Roles() on a @SubscribeMessage() handler is checked per message and
 *   refused with the event `exception` `{status, code, message}`.
 * - When the credential ends, the socket gets the event `exception` `{status, code,
 *   message, closeCode}` (closeCode 4401, 4403 or 4503) and is disconnected.
 */
export class KeypairAuthIoAdapter extends IoAdapter {
  private auth: WebSocketAuthentication | undefined;

  constructor(
    private readonly nestApp: INestApplication,
    private readonly authOptions: KeypairAuthIoAdapterOptions = {},
  ) {
    super(nestApp);
  }

  private authentication(): WebSocketAuthentication {
    this.auth ??= WebSocketAuthentication.fromApp(this.nestApp, this.authOptions);
    return this.auth;
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    // No polling, hence no upgrade: the one request of a connection is its authenticated handshake.
    const server = super.createIOServer(port, {
      ...options,
      transports: ['websocket'],
      allowUpgrades: false,
    } as ServerOptions) as Server;
    server.engine.use(this.handshakeMiddleware());
    return server;
  }

  private handshakeMiddleware(): EngineMiddleware {
    const auth = this.authentication();
    return (req, res, next) => {
      const query = new URL(req.url ?? '/', 'http://engine.invalid').searchParams;
      const upgrade = !(res instanceof ServerResponse);
      if (!upgrade || query.get('transport') !== 'websocket' || query.has('sid')) {
        const why = query.has('sid') ? 'a request for an existing engine.io session' : 'a polling request';
        const refused = authError(
          'WS_TRANSPORT_REFUSED',
          `socket.io: ${why}; only the websocket transport is accepted`,
        );
        writeRefusal(req, res, auth.refuse(refused, req));
        return; // never next(): engine.io does nothing more with this request
      }
      void auth.authenticate(req).then((outcome) => {
        if (outcome.ok) next();
        else writeRefusal(req, res, outcome.refusal);
      });
    };
  }

  override bindClientConnect(server: Server | Namespace, callback: (socket: Socket) => void): void {
    const auth = this.authentication();
    server.on('connection', (socket: Socket) => {
      const stop = auth.open(socket, socket.request, (ended) => {
        socket.emit('exception', ended);
        socket.disconnect(true);
      });
      if (!stop) {
        socket.emit('exception', {
          status: 401,
          code: 'CREDENTIALS_MISSING',
          message: 'No credentials were sent.',
          closeCode: WS_CLOSE_CODES.POLICY_VIOLATION,
        });
        socket.disconnect(true);
        return;
      }
      socket.once('disconnect', stop);
      if (!socket.connected) return; // its credential ended as it opened: the gateway never sees it
      callback(socket);
    });
  }

  override async dispose(): Promise<void> {
    this.auth?.close();
    await super.dispose();
  }
}

/** Answers a refused engine.io request: on the HTTP response of a polling request, or raw on the upgrade socket. */
function writeRefusal(req: IncomingMessage, res: ServerResponse | object, refusal: HandshakeRefusal): void {
  const body = JSON.stringify(refusal.body);
  const headers: Record<string, string> = {
    ...refusal.headers,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  if (res instanceof ServerResponse) {
    if (!res.headersSent) res.writeHead(refusal.status, headers);
    res.end(body);
    return;
  }
  const socket: Duplex = req.socket;
  if (!socket.writable) return;
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n${head}\r\n${body}`);
}
