import { ApiProperty, ApiPropertyOptional, ApiSchema } from '../../openapi/swagger.decorators';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ROLE_PATTERN } from '../../keys/user-directory.interface';

@ApiSchema({ name: 'KeypairAuthRegisterCertificate' })
export class RegisterCertificateDto {
  @ApiProperty({ description: 'The client certificate, one PEM block (never its private key).' })
  @IsString()
  @MaxLength(32 * 1024)
  certificate!: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  label?: string;

  @ApiPropertyOptional({
    type: [String],
    description: "Role subset for this certificate; defaults to all of the user's roles.",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @Matches(ROLE_PATTERN, { each: true })
  roles?: string[];
}
