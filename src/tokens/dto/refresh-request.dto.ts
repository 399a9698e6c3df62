import { ApiProperty, ApiSchema } from '../../openapi/swagger.decorators';
import { IsString, MaxLength } from 'class-validator';

/** `POST /auth/refresh` and `POST /auth/revoke`. */
@ApiSchema({ name: 'KeypairAuthRefreshRequest' })
export class RefreshRequestDto {
  @ApiProperty({ description: 'The refresh token from the last token response.' })
  @IsString()
  @MaxLength(200)
  refreshToken!: string;
}
