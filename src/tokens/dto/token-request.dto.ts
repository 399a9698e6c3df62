import { ApiPropertyOptional, ApiSchema } from '../../openapi/swagger.decorators';
import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ROLE_PATTERN } from '../../keys/user-directory.interface';
import { KEY_ID_FORMAT } from './challenge-request.dto';

/**
 * `POST /auth/token`. Either the request is authenticated by a strategy (signed
 * request, client JWT, client certificate) and carries no challenge fields, or it
 * carries the answer to a challenge: `keyId`, `challenge`, `signature`.
 */
@ApiSchema({ name: 'KeypairAuthTokenRequest' })
export class TokenRequestDto {
  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @Matches(KEY_ID_FORMAT, { message: 'keyId must be 1-255 printable ASCII characters without spaces' })
  keyId?: string;

  @ApiPropertyOptional({ description: 'The challenge from POST /auth/challenge, as received.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  challenge?: string;

  @ApiPropertyOptional({
    description:
      'base64url of the signature over the UTF-8 bytes of "keypair-auth-challenge:" + challenge, ' +
      "in the key's registered algorithm (ECDSA as r||s).",
  })
  @IsOptional()
  @IsString()
  @MaxLength(1400)
  signature?: string;

  @ApiPropertyOptional({ type: [String], description: "Roles to grant; default all of the credential's." })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @Matches(ROLE_PATTERN, { each: true })
  roles?: string[];

  @ApiPropertyOptional({ description: 'Space-separated roles (OAuth style), instead of roles.' })
  @IsOptional()
  @IsString()
  @MaxLength(4200)
  @Matches(/^[A-Za-z0-9:._ -]*$/)
  scope?: string;

  @ApiPropertyOptional({
    description: 'Bind the tokens to the client key (cnf.jkt) or certificate (cnf.x5t#S256).',
  })
  @IsOptional()
  @IsBoolean()
  bindToKey?: boolean;
}
