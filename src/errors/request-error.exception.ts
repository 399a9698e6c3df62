import { HttpException, HttpStatus } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

/**
 * A 4xx answer to an admin or self-service request (bad key, unknown user, …),
 * with the same `{statusCode, error, code, message}` body as authentication errors.
 */
export class KeypairRequestException extends HttpException {
  constructor(
    readonly code: string,
    message: string,
    status: HttpStatus = HttpStatus.BAD_REQUEST,
  ) {
    super({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message }, status);
  }
}
