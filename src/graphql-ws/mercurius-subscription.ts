import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Logger } from '@nestjs/common';
import type { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import { isConnectionRequest } from '../context/connection-requests';
import { authenticateHandshake, refusalBody } from './handshake-authentication';

/** ws' verifyClient callback: accept, or refuse with a status, a body and headers. */
type VerifyClientCallback = (
  result: boolean,
  code?: number,
  message?: string,
  headers?: OutgoingHttpHeaders,
) => void;

/** What to spread into Mercurius' `subscription` option (@nestjs/mercurius passes it on as is). */
export interface KeypairAuthMercuriusSubscription {
  verifyClient: (info: { req: IncomingMessage }, next: VerifyClientCallback) => void;
  context: (socket: unknown, request: { raw?: IncomingMessage }) => Promise<object>;
}

const logger = new Logger('KeypairAuth');

const UNCHECKED_HANDSHAKE =
  'a subscription connection whose handshake was not authenticated was closed (4403): Mercurius ignores `verifyClient` when @fastify/websocket is registered before it; register your own @fastify/websocket routes after GraphQLModule has started';

/**
 * Mercurius subscription options that authenticate the WebSocket handshake with the module's
 * KeypairAuthGuard, as keypairAuthGraphqlWs() does for Apollo:
 *
 * - `verifyClient` runs the guard on the upgrade request before the socket opens; a refusal is
 *   the guard's HTTP answer (401/403/429/503 with `{statusCode, code, message}`), no WebSocket.
 * - `context` makes that upgrade request the `req` of every subscription operation, so the
 *   guard, @Roles() and @CurrentSecurityContext() on subscription resolvers find its
 *   SecurityContext. (Mercurius' own `request` is the Fastify request around it, which does not
 *   carry it.) Connection-init payloads are never read for authentication.
 *
 * The guard comes from the module: `GraphQLModule.forRootAsync({ driver: MercuriusDriver,
 * inject: [KeypairAuthGuard], useFactory: (guard) => ({ subscription:
 * keypairAuthMercuriusSubscription(guard) }) })`.
 */
export function keypairAuthMercuriusSubscription(
  guard: KeypairAuthGuard,
  options: { context?: (socket: unknown, request: unknown) => object | Promise<object> } = {},
): KeypairAuthMercuriusSubscription {
  return {
    verifyClient: (info, next) => {
      void authenticateHandshake(guard, info.req).then((refusal) => {
        if (!refusal) return next(true);
        const { status, body, headers } = refusalBody(refusal);
        next(false, status, body, { ...headers, 'Content-Type': 'application/json; charset=utf-8' });
      });
    },
    context: async (socket, request) => {
      // At connection_init, before any operation: an upgrade our verifyClient did not see (Mercurius
      // drops it when @fastify/websocket was registered before it) is closed, never authenticated
      // from its operations. The same safety net as keypairAuthGraphqlWsOptions()' 4403.
      if (!request.raw || !isConnectionRequest(request.raw)) {
        (socket as { close?: (code: number, reason: string) => void }).close?.(4403, 'Forbidden');
        // Logged here: Mercurius logs a throwing context through Fastify's logger, off under Nest by default.
        logger.error(UNCHECKED_HANDSHAKE);
        throw new Error(UNCHECKED_HANDSHAKE);
      }
      const own = options.context ? await options.context(socket, request) : {};
      return { ...own, req: request.raw };
    },
  };
}
