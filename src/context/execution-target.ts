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
  /** Undefined when a GraphQL context carries no request (a misconfigured `context` option). */
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

export function executionTarget(context: ExecutionContext): ExecutionTarget {
  const kind = context.getType<ExecutionKind>();
  if (kind === 'graphql') {
    // Resolver arguments are (root, args, context, info).
    const gql = (context.getArgByIndex<GraphQLContextShape | undefined>(2) ?? {}) as GraphQLContextShape;
    const req = gql.req ?? gql.reply?.request ?? gql.request ?? gql.extra?.request;
    // Apollo on Express puts only `req` in the context; Express links the response from it.
    const res = gql.res ?? gql.reply ?? (req as { res?: unknown } | undefined)?.res;
    return { kind, req: typeof req === 'object' && req !== null ? req : undefined, res };
  }
  if (kind === 'ws') {
    return { kind, req: context.switchToWs().getClient<object>(), res: undefined };
  }
  const http = context.switchToHttp();
  return { kind: 'http', req: http.getRequest<object>(), res: http.getResponse<unknown>() };
}
