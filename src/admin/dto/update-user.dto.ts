import { ApiProperty, ApiSchema } from '../../openapi/swagger.decorators';
import { IsBoolean } from 'class-validator';

@ApiSchema({ name: 'KeypairAuthUpdateUser' })
export class UpdateUserDto {
  @ApiProperty({ description: 'false deactivates the account: all its credentials stop working.' })
  @IsBoolean()
  active!: boolean;
}
