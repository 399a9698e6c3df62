import { KEY_ALGORITHMS } from '../keys/key-algorithm';
import { ApiProperty, ApiPropertyOptional, ApiSchema } from './swagger.decorators';

/**
 * The shapes the library's routes answer with, for the OpenAPI document only (the
 * controllers return the service types: AuthUser, KeyView, CertificateView, TokenResponse).
 * Schema names carry a KeypairAuth prefix so they never replace an app's own.
 */

@ApiSchema({ name: 'KeypairAuthUser' })
export class UserSchema {
  @ApiProperty({ format: 'uuid' })
  id!: string;
  @ApiProperty({ example: 'alice' })
  username!: string;
  @ApiProperty({ type: [String], example: ['reader'] })
  roles!: string[];
  @ApiProperty({ description: 'false: every credential of the account is refused.' })
  active!: boolean;
}

@ApiSchema({ name: 'KeypairAuthKey' })
export class KeySchema {
  @ApiProperty({ description: 'What clients send (keyid, kid); the fingerprint unless chosen.' })
  keyId!: string;
  @ApiProperty({ description: 'RFC 7638 JWK thumbprint (base64url SHA-256).' })
  fingerprint!: string;
  @ApiProperty({ enum: KEY_ALGORITHMS })
  algorithm!: string;
  @ApiProperty({ type: String, nullable: true })
  label!: string | null;
  @ApiProperty({ type: [String], nullable: true, description: "null: all of the user's roles." })
  roles!: string[] | null;
  @ApiProperty()
  publicKeyPem!: string;
  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expiresAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastUsedAt!: string | null;
}

@ApiSchema({ name: 'KeypairAuthCertificate' })
export class CertificateSchema {
  @ApiProperty({ description: 'SHA-256 of the DER, 64 lowercase hex digits: the SecurityContext keyId.' })
  fingerprint!: string;
  @ApiProperty({ description: 'The same SHA-256 as base64url: the x5t#S256 (RFC 8705 cnf) value.' })
  x5tS256!: string;
  @ApiProperty({ description: 'RFC 2253 subject DN.' })
  subject!: string;
  @ApiProperty({ description: 'RFC 2253 issuer DN.' })
  issuer!: string;
  @ApiProperty()
  serialNumber!: string;
  @ApiProperty({ type: String, nullable: true })
  label!: string | null;
  @ApiProperty({ type: [String], nullable: true, description: "null: all of the user's roles." })
  roles!: string[] | null;
  @ApiProperty({ format: 'date-time' })
  notBefore!: string;
  @ApiProperty({ format: 'date-time' })
  notAfter!: string;
  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revokedAt!: string | null;
  @ApiProperty()
  certificatePem!: string;
}

@ApiSchema({ name: 'KeypairAuthChallenge' })
export class ChallengeSchema {
  @ApiProperty({
    description:
      'Sign the UTF-8 bytes of "keypair-auth-challenge:" + challenge with the key, then POST /auth/token.',
  })
  challenge!: string;
  @ApiProperty({ description: 'Seconds until it expires.', example: 60 })
  expiresIn!: number;
}

@ApiSchema({ name: 'KeypairAuthTokenResponse' })
export class TokenResponseSchema {
  @ApiProperty({ description: 'A JWT (typ at+jwt) signed by the server keyring.' })
  accessToken!: string;
  @ApiProperty({
    enum: ['Bearer', 'DPoP'],
    description: 'DPoP: the token is bound to a key; send it as Authorization: DPoP with a DPoP proof.',
  })
  tokenType!: 'Bearer' | 'DPoP';
  @ApiProperty({ description: 'Seconds.', example: 600 })
  expiresIn!: number;
  @ApiPropertyOptional({
    description: 'Single use: each refresh answers a new one. Absent for certificate logins.',
  })
  refreshToken?: string;
  @ApiPropertyOptional({ description: 'Seconds.' })
  refreshTokenExpiresIn?: number;
  @ApiProperty({ type: [String], description: 'The roles the access token grants.' })
  roles!: string[];
}

@ApiSchema({ name: 'KeypairAuthRefreshTokenRevoked' })
export class RefreshTokenRevokedSchema {
  @ApiProperty({ enum: [true], description: 'Always true, also for an unknown token.' })
  revoked!: true;
}

@ApiSchema({ name: 'KeypairAuthUserTokensRevoked' })
export class UserTokensRevokedSchema {
  @ApiProperty()
  username!: string;
  @ApiProperty({ description: "The user's new token generation: older access tokens are refused." })
  generation!: number;
  @ApiProperty({ description: 'How many refresh-token families were revoked.' })
  refreshTokensRevoked!: number;
}

@ApiSchema({ name: 'KeypairAuthJwks' })
export class JwksSchema {
  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Public JWKs of the server keyring, newest first (kid, kty, alg, use …).',
  })
  keys!: Record<string, unknown>[];
}
