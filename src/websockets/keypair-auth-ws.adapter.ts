import type { IncomingMessage } from 'node:http';
import { INestApplication, Logger } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { AUTH_ERROR_CODES } from '../errors/auth-error-codes';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { WebSocketAuthentication, WebSocketAuthOptions } from './websocket-authentication';
import { WS_CLOSE_CODES } from './ws-close-codes';

type VerifyClientCallback = (
  result: boolean,
  code?: number,
  message?: string,
  headers?: Record<string, string>,
) => void;
type VerifyClient = (
  info: { origin: string; secure: boolean; req: IncomingMessage },
  callback: VerifyClientCallback,
) => void;

/** Options of KeypairAuthWsAdapter: WsAdapter's own, and the authentication's. */
export interface KeypairAuthWsAdapterOptions extends WebSocketAuthOptions {
  /** As WsAdapter's: how a text frame becomes `{event, data}` (default JSON.parse). */
  readonly messageParser?: (data: unknown) => { event: string; data: unknown } | null;
}

const OPEN = 1;

/**
 * Nest's `ws` adapter with KeypairAuthModule's authentication of the upgrade request:
 *
 *     app.useWebSocketAdapter(new KeypairAuthWsAdapter(app));
 *
 * - Every WebSocketServer it creates checks the upgrade request with `verifyClient`
 *   (the asynchronous form) through the module's guard: a refused handshake is answered
 *   with the HTTP status, headers and JSON body `{statusCode, error, code, message}` of a
 *   refused request, and no socket is ever opened (no `connection`, no handleConnection).
 * - The connection carries the handshake's SecurityContext, read-only, where the guard
 *   reads it for each message: @Roles() on a @SubscribeMessage() handler is checked per
 *   message, and refused with an `exception` message `{event: 'exception', data: {status,
 *   code, message}}`.
 * - Nest's exception filter "emits" `exception` on the server-side WebSocket object,
 *   which the `ws` client never sees; this adapter sends it as that message instead.
 * - When the credential ends (an access token's exp, a revocation, an inactive account)
 *   the connection is closed with 4401 (4403 for a lost role, 4503 when the check could
 *   not run) and the error code as the reason.
 */
/** The answer to a handshake whose checking failed unexpectedly: the guard's AUTHENTICATION_FAILED. */
const UNEXPECTED_REFUSAL = {
  statusCode: 401,
  error: 'Unauthorized',
  code: 'AUTHENTICATION_FAILED',
  message: AUTH_ERROR_CODES.AUTHENTICATION_FAILED.message,
};

export class KeypairAuthWsAdapter extends WsAdapter {
  private readonly failures = new Logger('KeypairAuth');
  private auth: WebSocketAuthentication | undefined;

  constructor(
    private readonly app: INestApplication,
    private readonly authOptions: KeypairAuthWsAdapterOptions = {},
  ) {
    super(app, authOptions.messageParser ? { messageParser: authOptions.messageParser as never } : undefined);
  }

  private authentication(): WebSocketAuthentication {
    this.auth ??= WebSocketAuthentication.fromApp(this.app, this.authOptions);
    return this.auth;
  }

  override create(port: number, options: Record<string, unknown> & { verifyClient?: VerifyClient } = {}) {
    // Nest passes no `server` to a ws gateway today; should it, that server's handshakes would bypass verifyClient.
    if (options.server) {
      throw ConfigError.create(
        'a @WebSocketGateway() with its own `server` option is not created by KeypairAuthWsAdapter, so its handshakes would not be authenticated.',
        'Leave `server` out (the gateway then shares the app’s HTTP server, or listens on its own port).',
      );
    }
    const auth = this.authentication();
    const theirs = options.verifyClient;
    const verifyClient: VerifyClient = (info, callback) => {
      const refuse = (reason: unknown) => {
        // The gateway's own verifyClient threw (or a bug of ours): refused, never a hang or a crash.
        this.failures.error(
          `WebSocket handshake refused: the gateway's verifyClient failed: ${JSON.stringify(String(reason))}`,
        );
        callback(false, 401, JSON.stringify(UNEXPECTED_REFUSAL), { 'Content-Type': 'application/json' });
      };
      auth
        .authenticate(info.req)
        .then((outcome) => {
          if (!outcome.ok) {
            const { status, body, headers } = outcome.refusal;
            callback(false, status, JSON.stringify(body), { ...headers, 'Content-Type': 'application/json' });
          } else if (theirs) {
            // The gateway's own check, after ours, in whichever of ws's two forms it is written.
            if (theirs.length >= 2) theirs(info, callback);
            else callback((theirs as (i: typeof info) => boolean)(info), 401);
          } else {
            callback(true);
          }
        })
        .catch(refuse);
    };
    return super.create(port, { ...options, verifyClient }) as WebSocketServer;
  }

  override bindClientConnect(
    server: WebSocketServer,
    callback: (client: WebSocket, req: IncomingMessage) => void,
  ) {
    const auth = this.authentication();
    server.on('connection', (client: WebSocket, req: IncomingMessage) => {
      const stop = auth.open(client, req, (ended) => client.close(ended.closeCode, ended.code));
      if (!stop) {
        client.close(WS_CLOSE_CODES.POLICY_VIOLATION, 'CREDENTIALS_MISSING');
        return;
      }
      client.once('close', stop);
      if (client.readyState !== client.OPEN) return; // its credential ended as it opened
      sendExceptions(client);
      callback(client, req);
    });
  }

  override async dispose(): Promise<void> {
    this.auth?.close();
    await super.dispose();
  }
}

/**
 * Nest's BaseWsExceptionFilter calls `client.emit('exception', data)`: on a `ws`
 * WebSocket that is a local event the client never receives. Sends it as the message
 * `{event: 'exception', data}` (the shape of every other message of a Nest ws gateway).
 */
/** Clients whose `exception` events are sent already (each gateway of a path binds the same client). */
const sendingExceptions = new WeakSet<WebSocket>();

function sendExceptions(client: WebSocket): void {
  if (sendingExceptions.has(client)) return;
  sendingExceptions.add(client);
  const emit = client.emit.bind(client);
  Object.defineProperty(client, 'emit', {
    value: (event: string | symbol, ...args: unknown[]): boolean => {
      if (event !== 'exception') return emit(event, ...args);
      if (client.readyState === OPEN) client.send(JSON.stringify({ event: 'exception', data: args[0] }));
      return true;
    },
  });
}
