import { ApiProperty, ApiSchema } from '../../openapi/swagger.decorators';
import { IsString, Matches } from 'class-validator';

/** Printable ASCII without spaces, as keyIds are (the key is not looked up here). */
export const KEY_ID_FORMAT = /^[\x21-\x7e]{1,255}$/;

@ApiSchema({ name: 'KeypairAuthChallengeRequest' })
export class ChallengeRequestDto {
  @ApiProperty({ description: 'The keyId the challenge will be answered with.', maxLength: 255 })
  @IsString()
  @Matches(KEY_ID_FORMAT, { message: 'keyId must be 1-255 printable ASCII characters without spaces' })
  keyId!: string;
}
