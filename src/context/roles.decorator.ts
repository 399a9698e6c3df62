import { SetMetadata } from '@nestjs/common';

export const ROLES_METADATA = 'keypair-auth:roles';

/** The route needs every listed role in the caller's effective roles (403 ROLE_REQUIRED otherwise). */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_METADATA, roles);
