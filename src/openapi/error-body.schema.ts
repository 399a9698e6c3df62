import { ApiProperty } from './swagger.decorators';

/**
 * The body of every error the library answers: `{statusCode, error, code, message}`
 * (KeypairAuthException, KeypairRequestException, IdempotencyException). `code` is
 * stable: branch on it, never on `message`.
 */
export class KeypairAuthErrorBody {
  @ApiProperty({ example: 401, description: 'The HTTP status, repeated.' })
  statusCode!: number;

  @ApiProperty({ example: 'Unauthorized', description: 'The reason phrase of the status.' })
  error!: string;

  @ApiProperty({
    example: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
    description: 'Stable, machine-readable error code (docs/errors.md lists them all).',
  })
  code!: string;

  @ApiProperty({
    example: 'The key is unknown or the signature does not verify.',
    description: 'A sentence for people: fixed per code for authentication failures.',
  })
  message!: string;
}
