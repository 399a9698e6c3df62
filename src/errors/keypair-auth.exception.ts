import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { AUTH_ERROR_CODES, AuthErrorCode } from './auth-error-codes';

export interface AuthErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
}

/**
 * An authentication or authorization failure. The body the client sees is
 * `{statusCode, error, code, message}` with the fixed message of the code; the
 * `reason` is for the server log only and is never sent.
 */
export class KeypairAuthException extends HttpException {
  readonly code: AuthErrorCode;

  constructor(
    code: AuthErrorCode,
    readonly reason: string = code,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    const { status, message } = AUTH_ERROR_CODES[code];
    const body: AuthErrorBody = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message };
    super(body, status);
    this.code = code;
  }
}

/** Shorthand used by authenticators: `throw authError('REPLAYED', 'nonce seen')`. */
export function authError(code: AuthErrorCode, reason?: string): KeypairAuthException {
  return new KeypairAuthException(code, reason);
}
