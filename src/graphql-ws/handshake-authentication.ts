import { HttpException } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { IncomingMessage } from 'node:http';
import { markConnectionRequest } from '../context/connection-requests';
import { authError } from '../errors/keypair-auth.exception';
import type { KeypairAuthGuard } from '../guards/keypair-auth.guard';

/**
 * The handler the guard sees for a handshake. It carries no decorator: the module's
 * rules apply (any enabled strategy, no roles); @Roles() and @RequireSignature() belong
 * on the subscription resolvers, where the guard checks them against this context.
 */
class GraphqlWsHandshake {
  handshake(): void {}
}

/** Why a handshake was refused: the guard's exception and the headers it set for the answer. */
export interface HandshakeRefusal {
  readonly exception: HttpException;
  readonly headers: ReadonlyMap<string, string>;
}

/**
 * Runs the module's KeypairAuthGuard on a WebSocket upgrade request as on an HTTP GET:
 * strategy selection, throttle, verification, nonce, audit event, and the SecurityContext
 * put on the request. Undefined when it passed, else the refusal.
 */
export async function authenticateHandshake(
  guard: KeypairAuthGuard,
  req: IncomingMessage,
): Promise<HandshakeRefusal | undefined> {
  // The guard sets the refusal's headers (WWW-Authenticate, Retry-After) on the response; an
  // upgrade has none, so they are collected here and written with the status line.
  const headers = new Map<string, string>();
  const res = { setHeader: (name: string, value: string) => void headers.set(name, value) };
  const context = new ExecutionContextHost(
    [req, res, undefined],
    GraphqlWsHandshake,
    GraphqlWsHandshake.prototype.handshake,
  );
  context.setType('http');
  // Operations on this connection will reach the guard with this request (see connection-requests.ts).
  markConnectionRequest(req);
  try {
    return (await guard.canActivate(context))
      ? undefined
      : { exception: authError('AUTHENTICATION_FAILED', 'guard returned false'), headers };
  } catch (error) {
    // The guard throws HttpExceptions only; anything else still refuses (fail closed).
    const exception =
      error instanceof HttpException ? error : authError('AUTHENTICATION_FAILED', String(error));
    return { exception, headers };
  }
}

/** The HTTP answer to a refused upgrade: the guard's status, its JSON body, and its headers. */
export function refusalBody(refusal: HandshakeRefusal): {
  status: number;
  body: string;
  headers: Record<string, string>;
} {
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  for (const [name, value] of refusal.headers) {
    if (name.toLowerCase() !== 'cache-control') headers[name] = value.replace(/[\r\n]/g, ' ');
  }
  return {
    status: refusal.exception.getStatus(),
    body: JSON.stringify(refusal.exception.getResponse()),
    headers,
  };
}
