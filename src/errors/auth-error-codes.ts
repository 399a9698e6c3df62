/**
 * The one table of stable, machine-readable error codes. Every strategy throws from
 * it; the README's error table is generated from the same entries. Codes are part of
 * the public API: never rename one, only add.
 */
export const AUTH_ERROR_CODES = {
  CREDENTIALS_MISSING: { status: 401, message: 'No credentials were sent.' },
  MALFORMED_CREDENTIALS: { status: 401, message: 'The credentials could not be parsed.' },
  KEY_UNKNOWN_OR_SIGNATURE_INVALID: {
    status: 401,
    message: 'The key is unknown or the signature does not verify.',
  },
  ALGORITHM_NOT_ALLOWED: { status: 401, message: 'The algorithm is not accepted.' },
  TOKEN_EXPIRED: { status: 401, message: 'The credential is too old or has expired.' },
  TOKEN_NOT_YET_VALID: { status: 401, message: 'The credential is dated in the future.' },
  TOKEN_LIFETIME_TOO_LONG: { status: 401, message: 'The credential is valid for longer than allowed.' },
  AUDIENCE_INVALID: { status: 401, message: 'The credential is meant for another audience.' },
  REQUEST_BINDING_MISMATCH: {
    status: 401,
    message: 'The credential is bound to another request method or URL.',
  },
  REPLAYED: { status: 401, message: 'The credential was already used.' },
  KEY_REVOKED: { status: 401, message: 'The key has been revoked.' },
  KEY_EXPIRED: { status: 401, message: 'The key has expired.' },
  USER_INACTIVE: { status: 401, message: 'The account is inactive.' },
  AUTHENTICATION_FAILED: { status: 401, message: 'Authentication failed.' },
  AUTH_BACKEND_UNAVAILABLE: {
    status: 503,
    message: 'Authentication is temporarily unavailable; retry later.',
  },
  ROLE_REQUIRED: { status: 403, message: 'The credential does not grant a required role.' },
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERROR_CODES;
