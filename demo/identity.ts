import { SecurityContext } from '../src';

/** Who the caller is: the same JSON from `GET /whoami`, the GraphQL `whoami` query and the `/ws` `whoami` message. */
export interface DemoIdentity {
  username: string;
  keyId: string;
  method: string;
  roles: readonly string[];
}

export function identityOf(ctx: SecurityContext): DemoIdentity {
  return { username: ctx.username, keyId: ctx.keyId, method: ctx.method, roles: ctx.roles };
}
