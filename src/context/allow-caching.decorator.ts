import { SetMetadata } from '@nestjs/common';

export const ALLOW_CACHING_METADATA = 'keypair-auth:allow-caching';

/**
 * Lets a route's authenticated responses be cached. Without it, KeypairAuthGuard sends
 * `Cache-Control: no-store` with every response it authenticated, so a shared cache
 * never serves one caller's answer to another. With it, the route sets its own
 * `Cache-Control` (e.g. `@Header('Cache-Control', 'private, max-age=60')`), or none.
 */
export const AllowCaching = (): MethodDecorator & ClassDecorator => SetMetadata(ALLOW_CACHING_METADATA, true);
