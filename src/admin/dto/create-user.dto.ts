import { ApiProperty, ApiSchema } from '../../openapi/swagger.decorators';
import { ArrayMaxSize, IsArray, IsString, Matches } from 'class-validator';
import { ROLE_PATTERN, USERNAME_PATTERN } from '../../keys/user-directory.interface';

@ApiSchema({ name: 'KeypairAuthCreateUser' })
export class CreateUserDto {
  @ApiProperty({ example: 'alice', pattern: USERNAME_PATTERN.source })
  @IsString()
  @Matches(USERNAME_PATTERN, {
    message: 'username must be lowercase a-z, 0-9 and . _ @ + -, at most 128 characters',
  })
  username!: string;

  @ApiProperty({ example: ['reader'], type: [String] })
  @IsArray()
  @ArrayMaxSize(64)
  @Matches(ROLE_PATTERN, { each: true, message: 'each role must match ' + ROLE_PATTERN.source })
  roles!: string[];
}
