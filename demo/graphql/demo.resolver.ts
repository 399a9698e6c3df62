import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentSecurityContext, Roles, SecurityContext } from '../../src';
import { identityOf } from '../identity';
import { IdentityModel } from './identity.model';

/** The demo's GraphQL API: guarded by the module's global guard, as its HTTP routes. */
@Resolver()
export class DemoResolver {
  /** The same identity as `GET /whoami`. */
  @Query(() => IdentityModel)
  whoami(@CurrentSecurityContext() ctx: SecurityContext): IdentityModel {
    const identity = identityOf(ctx);
    return { ...identity, roles: [...identity.roles] };
  }

  /** Needs role `admin`: a reader key gets a GraphQL error with `extensions.code: ROLE_REQUIRED`. */
  @Roles('admin')
  @Mutation(() => String)
  adminEcho(@Args('text') text: string): string {
    return text;
  }
}
