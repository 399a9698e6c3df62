import type { ExecutionContext } from '@nestjs/common';

/** Where a guard or decorator runs: an HTTP handler, a GraphQL resolver, or a WebSocket message handler. */
export type ExecutionKind = 'http' | 'graphql' | 'ws';

/**
 * The request object a guard reads and the response it may set headers on, for
 * each kind of Nest execution context. Read without importing `@nestjs/graphql`
 * or `@nestjs/websockets`: an app that uses neither never loads them.
 *
 * - http: the Express request / Fastify request and response.
 * - graphql: the HTTP request behind the operation, from the GraphQL context
 *   (`req` as @nestjs/apollo and @nestjs/mercurius set it, Mercurius' `reply.request`,
 *   or graphql-ws' `extra.request` for a subscription); one object per HTTP request,
 *   shared by every resolver of that request.
 * - ws: the connection (a `ws` WebSocket or a socket.io Socket). Its SecurityContext
 *   was put there when the handshake was authenticated; a message never authenticates.
 */
export interface ExecutionTarget {
  readonly kind: ExecutionKind;
  /**
   * Undefined when a GraphQL context carries no HTTP request (a `context` option that drops
   * `req` or replaces it with a copy): the guard then refuses, CREDENTIALS_MISSING.
   */
  readonly req: object | undefined;
  readonly res: unknown;
}

interface GraphQLContextShape {
  req?: object & { res?: unknown; raw?: unknown };
  request?: object;
  res?: unknown;
  reply?: { request?: object };
  extra?: { request?: object };
}

/**
 * Whether `value` is the HTTP request itself (Node's IncomingMessage, or a Fastify request
 * around one), not an object an app's GraphQL `context` built from it, such as
 * `{ headers: req.headers }`: the raw header list, the body bytes and the socket the
 * authenticators read exist only on the request, so a copy is treated as no request.
 */
function isHttpRequest(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const raw = (value as { raw?: unknown }).raw ?? value;
  return (
    typeof raw === 'object' && raw !== null && Array.isArray((raw as { rawHeaders?: unknown }).rawHeaders)
  );
}

/**
 * Where a resolver's GraphQL context may hold its request: `req` (both Nest drivers) or
 * the upgrade request inside it (@nestjs/apollo hands graphql-ws subscriptions the
 * graphql-ws Context as `req`, whose `extra.request` is the upgrade request); without
 * `req`, Mercurius' `reply.request`, `request`, or graphql-ws' `extra.request`.
 */
function contextRequests(context: ExecutionContext): unknown[] {
  // Resolver arguments are (root, args, context, info).
  const gql = (context.getArgByIndex<GraphQLContextShape | undefined>(2) ?? {}) as GraphQLContextShape;
  // An app that sets `req` decides what the request is: a copy it made is refused, not
  // bypassed for Mercurius' reply.request (G67). Only the upgrade request inside it counts.
  if (gql.req !== undefined) return [gql.req, (gql.req as { extra?: { request?: unknown } }).extra?.request];
  return [gql.reply?.request, gql.request, gql.extra?.request];
}

/**
 * What a resolver's GraphQL context holds as its request: the HTTP request if one of the
 * places holds it, else whatever the first place holds (a copy an app made, say).
 */
export function graphqlContextRequest(context: ExecutionContext): unknown {
  const candidates = contextRequests(context);
  return candidates.find(isHttpRequest) ?? candidates.find((value) => value !== undefined);
}

export function executionTarget(context: ExecutionContext): ExecutionTarget {
  const kind = context.getType<ExecutionKind>();
  if (kind === 'graphql') {
    const gql = (context.getArgByIndex<GraphQLContextShape | undefined>(2) ?? {}) as GraphQLContextShape;
    const req = contextRequests(context).find(isHttpRequest);
    // Apollo on Express puts only `req` in the context; Express links the response from it.
    const res = gql.res ?? gql.reply ?? (req as { res?: unknown } | undefined)?.res;
    return { kind, req, res };
  }
  if (kind === 'ws') {
    return { kind, req: context.switchToWs().getClient<object>(), res: undefined };
  }
  const http = context.switchToHttp();
  return { kind: 'http', req: http.getRequest<object>(), res: http.getResponse<unknown>() };
}
