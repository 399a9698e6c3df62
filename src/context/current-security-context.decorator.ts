import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { authError } from '../errors/keypair-auth.exception';
import { getSecurityContext } from './security-context.request';

/**
 * Injects the request's SecurityContext into a handler parameter. On a route that
 * no keypair guard protected it fails closed with 401 instead of handing out undefined.
 */
export const CurrentSecurityContext = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const context = getSecurityContext(ctx.switchToHttp().getRequest());
  if (!context)
    throw authError('CREDENTIALS_MISSING', 'handler asked for a SecurityContext on an unauthenticated route');
  return context;
});
