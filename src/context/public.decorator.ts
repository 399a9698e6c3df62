import { SetMetadata } from '@nestjs/common';

export const PUBLIC_METADATA = 'keypair-auth:public';

/** Opts a route (or controller) out of authentication, also when the guard is global. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_METADATA, true);
