import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { exceptionForContext } from '../errors/context-exception';
import { authError } from '../errors/keypair-auth.exception';
import { executionTarget } from './execution-target';
import { getSecurityContext } from './security-context.request';

/**
 * Injects the request's SecurityContext into a handler parameter. On a route that
 * no keypair guard protected it fails closed with 401 instead of handing out undefined.
 * Works in controllers, GraphQL resolvers and WebSocket gateways alike.
 */
export const CurrentSecurityContext = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const { kind, req } = executionTarget(ctx);
  const context = req && getSecurityContext(req);
  if (!context)
    throw exceptionForContext(
      authError('CREDENTIALS_MISSING', 'handler asked for a SecurityContext on an unauthenticated route'),
      kind,
    );
  return context;
});
