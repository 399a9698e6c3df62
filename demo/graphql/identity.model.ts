import { Field, ObjectType } from '@nestjs/graphql';
import type { DemoIdentity } from '../identity';

/** The caller, as `GET /whoami` answers it. */
@ObjectType('Identity')
export class IdentityModel implements DemoIdentity {
  @Field()
  username!: string;

  @Field()
  keyId!: string;

  @Field({ description: 'How the caller proved the key: jwt, http-signature-rfc9421, access-token, …' })
  method!: string;

  @Field(() => [String])
  roles!: string[];
}
