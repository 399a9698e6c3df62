import { ApiProperty, ApiPropertyOptional, ApiSchema } from '../../openapi/swagger.decorators';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { KEY_ALGORITHMS, KeyAlgorithm } from '../../keys/key-algorithm';
import { ROLE_PATTERN } from '../../keys/user-directory.interface';

@ApiSchema({ name: 'KeypairAuthRegisterKey' })
export class RegisterKeyDto {
  @ApiProperty({
    description:
      'SPKI PEM, an OpenSSH public key line, or a JWK (object or JSON string). Never a private key.',
    oneOf: [{ type: 'string' }, { type: 'object' }],
  })
  @IsDefined()
  publicKey!: string | Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  label?: string;

  @ApiPropertyOptional({
    type: [String],
    description: "Role subset for this key; defaults to all of the user's roles.",
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @Matches(ROLE_PATTERN, { each: true })
  roles?: string[];

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;

  @ApiPropertyOptional({
    enum: KEY_ALGORITHMS,
    description: 'Pin another algorithm than the default (RSA only).',
  })
  @IsOptional()
  @IsIn(KEY_ALGORITHMS)
  algorithm?: KeyAlgorithm;

  @ApiPropertyOptional({ description: 'Identifier clients send; defaults to the key fingerprint.' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  keyId?: string;
}
