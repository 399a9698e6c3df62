import { getSecurityContext, SECURITY_CONTEXT_PROPERTY } from '../context/security-context.request';

/** The part of graphql-ws' server Context these options read and write (graphql-ws itself is not imported). */
export interface GraphqlWsConnectionContext {
  readonly connectionParams?: Readonly<Record<string, unknown>>;
  readonly extra?: unknown;
}

/** What graphql-ws accepts from `onConnect`: false refuses (4403), an object is the ack payload. */
export type GraphqlWsOnConnectResult = boolean | void | Record<string, unknown>;

export interface KeypairAuthGraphqlWsOptions<Context extends GraphqlWsConnectionContext> {
  /** Your own onConnect, run once the handshake is known to be authenticated (return false to refuse: 4403). */
  onConnect?: (ctx: Context) => GraphqlWsOnConnectResult | Promise<GraphqlWsOnConnectResult>;
}

/** What to spread into `subscriptions: { 'graphql-ws': … }` of the GraphQLModule options. */
export interface KeypairAuthGraphqlWsServerOptions<Context extends GraphqlWsConnectionContext> {
  onConnect: (ctx: Context) => Promise<GraphqlWsOnConnectResult>;
}

/**
 * graphql-ws server options that hold subscriptions to the handshake keypairAuthGraphqlWs()
 * authenticated. `onConnect`, at `connection_init` and so before any operation runs:
 *
 * - refuses a connection whose upgrade request (`extra.request`) carries no SecurityContext:
 *   graphql-ws closes it with 4403 Forbidden. With the gate in place every such upgrade was
 *   already refused with 401; this keeps the endpoint closed if the gate is missing or an
 *   upgrade reached graphql-ws around it. `connectionParams` are never read: credentials
 *   there authenticate nothing.
 * - puts that SecurityContext on the connection's context object too. @nestjs/apollo hands
 *   subscription resolvers that object as `req` (its default GraphQL context, and the `req`
 *   it adds to yours); the guard, @Roles() and @CurrentSecurityContext() find the context
 *   there, as on `extra.request`, and never authenticate again.
 */
export function keypairAuthGraphqlWsOptions<Context extends GraphqlWsConnectionContext>(
  options: KeypairAuthGraphqlWsOptions<Context> = {},
): KeypairAuthGraphqlWsServerOptions<Context> {
  return {
    onConnect: async (ctx) => {
      const request = (ctx.extra as { request?: unknown } | undefined)?.request;
      const securityContext =
        typeof request === 'object' && request !== null ? getSecurityContext(request) : undefined;
      if (!securityContext) return false;
      (ctx as { [SECURITY_CONTEXT_PROPERTY]?: unknown })[SECURITY_CONTEXT_PROPERTY] = securityContext;
      closeAtExpiry(ctx.extra, securityContext.expiresAt);
      return options.onConnect ? await options.onConnect(ctx) : true;
    },
  };
}

/** The part of graphql-ws' `ws` extra this reads: the socket (graphql-ws itself is not imported). */
interface ClosableSocket {
  close(code: number, reason: string): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * An access token's connection ends at its `exp`, as a gateway's does (4401 TOKEN_EXPIRED):
 * the guard refuses each later operation, and this ends the subscriptions already streaming.
 */
function closeAtExpiry(extra: unknown, expiresAt: number | null): void {
  const socket = (extra as { socket?: Partial<ClosableSocket> } | undefined)?.socket;
  if (expiresAt === null || typeof socket?.close !== 'function' || typeof socket.once !== 'function') return;
  const open = socket as ClosableSocket;
  const timer = setTimeout(() => open.close(4401, 'TOKEN_EXPIRED'), Math.max(0, expiresAt - Date.now()));
  timer.unref();
  open.once('close', () => clearTimeout(timer));
}
