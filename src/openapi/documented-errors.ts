import { AUTH_ERROR_CODES, AuthErrorCode } from '../errors/auth-error-codes';

/**
 * The codes of KeypairRequestException (admin, self-service and token requests that are
 * not authentication failures) with their status. test/openapi checks that every code
 * the sources throw is here.
 */
export const REQUEST_ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  USERNAME_INVALID: 400,
  ROLES_INVALID: 400,
  USER_EXISTS: 409,
  USER_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  KEY_IS_PRIVATE: 400,
  KEY_TOO_WEAK: 400,
  KEY_TYPE_UNSUPPORTED: 400,
  KEY_FORMAT_INVALID: 400,
  KEY_ALGORITHM_MISMATCH: 400,
  KEY_DUPLICATE: 400,
  KEY_ID_INVALID: 400,
  KEY_ID_RESERVED: 403,
  ROLES_NOT_HELD: 400,
  ROLES_EXCEED_CREDENTIAL: 403,
  KEY_OUTLIVES_CREDENTIAL: 403,
  EXPIRY_IN_PAST: 400,
  LABEL_INVALID: 400,
  NOT_SUPPORTED: 501,
  CERTIFICATE_INVALID: 400,
  CERTIFICATE_EXPIRED: 400,
  CERTIFICATE_DUPLICATE: 400,
  CERTIFICATE_NOT_FOUND: 404,
} as const;

export type RequestErrorCode = keyof typeof REQUEST_ERROR_STATUS;
export type DocumentedErrorCode = AuthErrorCode | RequestErrorCode;

export function statusOf(code: DocumentedErrorCode): number {
  return code in AUTH_ERROR_CODES
    ? AUTH_ERROR_CODES[code as AuthErrorCode].status
    : REQUEST_ERROR_STATUS[code as RequestErrorCode];
}

/** Codes only the token endpoints and key registration answer, never KeypairAuthGuard. */
const NOT_FROM_THE_GUARD: readonly AuthErrorCode[] = [
  'CHALLENGE_INVALID',
  'KEY_PROOF_REQUIRED',
  'KEY_REGISTRATION_NEEDS_KEY_PROOF',
  'REFRESH_TOKEN_INVALID',
  'REFRESH_TOKEN_REUSED',
  'ROLE_REQUIRED',
];

/** What KeypairAuthGuard can answer on any route it protects, whichever strategy the request calls for. */
export const GUARD_ERROR_CODES = (Object.keys(AUTH_ERROR_CODES) as AuthErrorCode[]).filter(
  (code) => !NOT_FROM_THE_GUARD.includes(code),
);

const KEY_REGISTRATION: readonly DocumentedErrorCode[] = [
  'VALIDATION_FAILED',
  'KEY_IS_PRIVATE',
  'KEY_TOO_WEAK',
  'KEY_TYPE_UNSUPPORTED',
  'KEY_FORMAT_INVALID',
  'KEY_ALGORITHM_MISMATCH',
  'KEY_DUPLICATE',
  'KEY_ID_INVALID',
  'ROLES_INVALID',
  'ROLES_NOT_HELD',
  'EXPIRY_IN_PAST',
  'LABEL_INVALID',
];

/** The request codes of each library operation (authentication codes are added by the way in). */
export const OPERATION_ERRORS = {
  createUser: ['VALIDATION_FAILED', 'USERNAME_INVALID', 'ROLES_INVALID', 'USER_EXISTS', 'NOT_SUPPORTED'],
  listUsers: ['NOT_SUPPORTED'],
  updateUser: ['VALIDATION_FAILED', 'USER_NOT_FOUND', 'NOT_SUPPORTED'],
  registerKey: ['USER_NOT_FOUND', ...KEY_REGISTRATION],
  listKeys: ['USER_NOT_FOUND'],
  revokeKey: ['KEY_NOT_FOUND'],
  registerCertificate: [
    'VALIDATION_FAILED',
    'USER_NOT_FOUND',
    'KEY_IS_PRIVATE',
    'CERTIFICATE_INVALID',
    'CERTIFICATE_EXPIRED',
    'CERTIFICATE_DUPLICATE',
    'ROLES_INVALID',
    'ROLES_NOT_HELD',
    'LABEL_INVALID',
  ],
  listCertificates: ['USER_NOT_FOUND'],
  revokeCertificate: ['CERTIFICATE_NOT_FOUND'],
  revokeUserTokens: ['USER_NOT_FOUND'],
  listOwnKeys: ['WEB_BOT_AUTH_AGENT_FORBIDDEN'],
  registerOwnKey: [
    ...KEY_REGISTRATION,
    'KEY_REGISTRATION_NEEDS_KEY_PROOF',
    'WEB_BOT_AUTH_AGENT_FORBIDDEN',
    'KEY_ID_RESERVED',
    'ROLES_EXCEED_CREDENTIAL',
    'KEY_OUTLIVES_CREDENTIAL',
  ],
  revokeOwnKey: ['KEY_NOT_FOUND', 'WEB_BOT_AUTH_AGENT_FORBIDDEN'],
  challenge: ['VALIDATION_FAILED'],
  token: [
    'VALIDATION_FAILED',
    'CHALLENGE_INVALID',
    'KEY_PROOF_REQUIRED',
    'ROLES_EXCEED_CREDENTIAL',
    'DPOP_PROOF_REQUIRED',
    'DPOP_PROOF_INVALID',
  ],
  refresh: [
    'VALIDATION_FAILED',
    'REFRESH_TOKEN_INVALID',
    'REFRESH_TOKEN_REUSED',
    'TOKEN_REVOKED',
    'DPOP_PROOF_REQUIRED',
    'DPOP_PROOF_INVALID',
    'REPLAYED',
    'KEY_REVOKED',
    'KEY_EXPIRED',
    'USER_INACTIVE',
    'AUTH_THROTTLED',
    'AUTH_BACKEND_UNAVAILABLE',
  ],
  revokeRefreshToken: [
    'VALIDATION_FAILED',
    'DPOP_PROOF_REQUIRED',
    'DPOP_PROOF_INVALID',
    'REPLAYED',
    'AUTH_BACKEND_UNAVAILABLE',
  ],
} satisfies Record<string, readonly DocumentedErrorCode[]>;
