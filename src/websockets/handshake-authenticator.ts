import { HttpException } from '@nestjs/common';
import type { SecurityContext } from '../context/security-context';
import { authError } from '../errors/keypair-auth.exception';
import type { KeypairAuthGuard } from '../guards/keypair-auth.guard';

/** The HTTP answer to a refused handshake: the same status, body and headers as a refused request. */
export interface HandshakeRefusal {
  readonly status: number;
  /** `{statusCode, error, code, message}`, as over HTTP. */
  readonly body: { readonly code: string; readonly message: string; readonly [key: string]: unknown };
  /** `WWW-Authenticate` on a 401, `Retry-After` on a 429, `Cache-Control: no-store`. */
  readonly headers: Readonly<Record<string, string>>;
}

export type HandshakeOutcome =
  | { readonly ok: true; readonly context: SecurityContext }
  | { readonly ok: false; readonly refusal: HandshakeRefusal };

/** Collects the headers the guard sets on a refusal (it sets them on a response; a handshake has none yet). */
class HeaderCollector {
  readonly headers: Record<string, string> = {};
  setHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
}

/**
 * Authenticates the HTTP request that opens a WebSocket (the upgrade request, or
 * socket.io's handshake) with the module's own guard: the same strategies, throttle,
 * audit events and refusal codes as any HTTP request, so a signed GET, a client JWT, an
 * access token or a client certificate opens a connection, and nothing else does.
 * Never throws: a refusal is an answer to write before any socket is opened.
 */
export class HandshakeAuthenticator {
  constructor(private readonly guard: KeypairAuthGuard) {}

  async authenticate(req: object): Promise<HandshakeOutcome> {
    const collector = new HeaderCollector();
    try {
      return { ok: true, context: await this.guard.authenticateHandshake(req, collector) };
    } catch (error) {
      // The guard maps every failure to an HttpException; anything else is still a refusal.
      const exception = error instanceof HttpException ? error : authError('AUTHENTICATION_FAILED');
      return { ok: false, refusal: refusalOf(exception, collector.headers) };
    }
  }
}

/** The refusal as written on the wire, from the guard's exception. */
export function refusalOf(exception: HttpException, headers: Record<string, string> = {}): HandshakeRefusal {
  const response = exception.getResponse();
  const body =
    typeof response === 'object' && response !== null
      ? (response as HandshakeRefusal['body'])
      : { statusCode: exception.getStatus(), code: 'AUTHENTICATION_FAILED', message: String(response) };
  return { status: exception.getStatus(), body, headers: { ...headers, 'Cache-Control': 'no-store' } };
}
