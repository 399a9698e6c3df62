import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { AuthErrorBody } from './keypair-auth.exception';

/**
 * Stable codes of the idempotency layer (`@Idempotent()`, the IdempotentEndpoint
 * classes). Kept apart from AUTH_ERROR_CODES because they are not authentication
 * failures, with the same body shape. Codes are public API: never rename, only add.
 */
export const IDEMPOTENCY_ERROR_CODES = {
  IDEMPOTENCY_KEY_MISSING: {
    status: 400,
    message: 'This route requires an Idempotency-Key header, e.g. Idempotency-Key: "<uuid>".',
  },
  IDEMPOTENCY_KEY_INVALID: {
    status: 400,
    message:
      'The Idempotency-Key header must be one structured-field string (quoted), not empty and not too long.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    message: 'This Idempotency-Key was already used with a different request; use a new key.',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 409,
    message: 'A request with this Idempotency-Key is still being processed; retry after Retry-After seconds.',
  },
  IDEMPOTENCY_STORE_UNAVAILABLE: {
    status: 503,
    message: 'Idempotency keys cannot be checked right now; retry later with the same key.',
  },
  IDEMPOTENCY_REQUIRES_AUTHENTICATION: {
    status: 500,
    message: 'This route uses idempotency keys without authentication, which the server refuses.',
  },
  IDEMPOTENCY_RESPONSE_NOT_STORED: {
    status: 500,
    message:
      'The request with this Idempotency-Key completed, but its response could not be kept (too large or not JSON).',
  },
  // graphql
  IDEMPOTENCY_KEY_NOT_SUPPORTED: {
    status: 400,
    message:
      'Idempotency-Key is not supported on GraphQL mutations: send the write to a REST endpoint with @Idempotent(), or drop the header.',
  },
} as const;

export type IdempotencyErrorCode = keyof typeof IDEMPOTENCY_ERROR_CODES;

/** The JSON body of an idempotency failure: `{statusCode, error, code, message}`. */
export function idempotencyErrorBody(code: IdempotencyErrorCode): AuthErrorBody {
  const { status, message } = IDEMPOTENCY_ERROR_CODES[code];
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message };
}

/**
 * A failure of the idempotency layer itself (never stored as a request's outcome).
 * The message is fixed per code; `reason` is for the server log only.
 */
export class IdempotencyException extends HttpException {
  constructor(
    readonly code: IdempotencyErrorCode,
    readonly reason: string = code,
  ) {
    super(idempotencyErrorBody(code), IDEMPOTENCY_ERROR_CODES[code].status);
  }
}
