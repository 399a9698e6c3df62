import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { IdempotentRouteOptions, validateIdempotentRouteOptions } from './idempotency-options';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { IDEMPOTENT_METADATA } from './idempotent.constants';

/**
 * Makes a write route idempotent by `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header):
 * a retry gets the stored response instead of a second execution. The route must be
 * authenticated (keys are scoped by user). On a controller it covers every route
 * except GET, HEAD and OPTIONS.
 *
 *     @Post() @Idempotent()                         // key required (400 without)
 *     @Post() @Idempotent({ lockTtlSeconds: 120 })  // a slow handler
 */
export const Idempotent = (options: IdempotentRouteOptions = {}): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT_METADATA, validateIdempotentRouteOptions(options)),
    UseInterceptors(IdempotencyInterceptor),
  );
