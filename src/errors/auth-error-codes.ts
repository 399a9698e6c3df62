/**
 * The one table of stable, machine-readable error codes. Every strategy throws from
 * it; the error table of docs/errors.md is generated from the same entries. Codes are part of
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
  SIGNATURE_NOT_FOUND: {
    status: 401,
    message: 'No signature matches what this server checks (label or tag), or several do.',
  },
  REQUEST_TARGET_INVALID: {
    status: 400,
    message: 'A signed request must have an origin-form target (a path and query, no fragment).',
  },
  SIGNATURE_REQUIRED: {
    status: 401,
    message: 'This route accepts only an HTTP message signature (RFC 9421 or draft-cavage-12).',
  },
  SIGNATURE_COVERAGE_INSUFFICIENT: {
    status: 401,
    message: 'The signature does not cover the components this route requires.',
  },
  SIGNATURE_COMPONENT_INVALID: {
    status: 401,
    message: 'A covered component is missing from the request or cannot be signed.',
  },
  DIGEST_REQUIRED: { status: 401, message: 'A request with a body must sign a digest of it.' },
  DIGEST_MISMATCH: { status: 401, message: 'The body does not match its signed digest.' },
  DIGEST_ALGORITHM_UNSUPPORTED: { status: 401, message: 'Digests must use sha-256 or sha-512.' },
  BODY_TOO_LARGE: { status: 413, message: 'The signed body is larger than this server checks.' },
  ROLE_REQUIRED: { status: 403, message: 'The credential does not grant a required role.' },
  // Hardening (src/throttle/)
  AUTH_THROTTLED: {
    status: 429,
    message: 'Too many failed authentication attempts; retry after Retry-After seconds.',
  },
  // Client certificates (src/certificate-strategy/)
  CERT_HEADER_UNTRUSTED: {
    status: 400,
    message: 'Client-certificate headers are only accepted from a trusted proxy.',
  },
  CERT_HEADER_DUPLICATED: { status: 400, message: 'A client-certificate header occurs more than once.' },
  CERT_HEADER_MALFORMED: { status: 400, message: 'A client-certificate header could not be decoded.' },
  CERT_MISSING: { status: 401, message: 'No client certificate was presented.' },
  CERT_VERIFY_FAILED: { status: 401, message: 'The client certificate failed verification.' },
  CERT_UNTRUSTED: { status: 401, message: 'The client certificate is not issued by a trusted CA.' },
  CERT_EXPIRED: { status: 401, message: 'The client certificate has expired.' },
  CERT_NOT_YET_VALID: { status: 401, message: 'The client certificate is not valid yet.' },
  CERT_EKU_MISSING: {
    status: 401,
    message: 'The client certificate is not meant for client authentication.',
  },
  CERT_REVOKED: { status: 401, message: 'The client certificate has been revoked.' },
  CERT_REVOCATION_UNKNOWN: {
    status: 401,
    message: 'The revocation status of the client certificate cannot be established.',
  },
  CERT_SUBJECT_INVALID: { status: 401, message: 'The client certificate names no usable identity.' },
  CERT_UNKNOWN: { status: 401, message: 'The client certificate is not registered for any account.' },
  // Tokens (src/tokens/)
  CHALLENGE_INVALID: {
    status: 401,
    message: 'The challenge was not issued here for this key, or has expired.',
  },
  KEY_PROOF_REQUIRED: {
    status: 401,
    message: 'Tokens are only issued against a proof of a registered private key or client certificate.',
  },
  KEY_REGISTRATION_NEEDS_KEY_PROOF: {
    status: 403,
    message:
      'Adding a key needs a request signed by a registered key of this account, or a verified client certificate; not an access token, a shared HMAC secret or a subject DN.',
  },
  ACCESS_TOKEN_INVALID: {
    status: 401,
    message: 'The access token was not issued by this server, was altered, or no longer fits its credential.',
  },
  TOKEN_TYPE_INVALID: { status: 401, message: 'The token is not an access token (typ at+jwt).' },
  TOKEN_REVOKED: { status: 401, message: 'The token has been revoked.' },
  REFRESH_TOKEN_INVALID: { status: 401, message: 'The refresh token is unknown or has expired.' },
  REFRESH_TOKEN_REUSED: {
    status: 401,
    message: 'The refresh token was already used; every token of its family is now revoked.',
  },
  DPOP_PROOF_REQUIRED: {
    status: 401,
    message: 'This token is bound to a key: send it with the DPoP scheme and a DPoP proof.',
  },
  DPOP_PROOF_INVALID: {
    status: 401,
    message: 'The DPoP proof is malformed, does not verify, or does not match the request or the token.',
  },
  // websockets
  WS_TRANSPORT_REFUSED: {
    status: 400,
    message:
      'Only a WebSocket handshake authenticates a connection: connect with the websocket transport alone (socket.io: transports: ["websocket"]), with the credentials in its headers.',
  },
  // Web Bot Auth (src/web-bot-auth/)
  WEB_BOT_AUTH_TAG_INVALID: {
    status: 401,
    message: 'A Web Bot Auth request needs exactly one signature with tag="web-bot-auth".',
  },
  WEB_BOT_AUTH_AGENT_INVALID: {
    status: 400,
    message:
      'Signature-Agent must be a structured-field dictionary (or a single string) of https URLs: an agent origin or its /.well-known/http-message-signatures-directory.',
  },
  WEB_BOT_AUTH_AGENT_NOT_COVERED: {
    status: 401,
    message:
      'The signature must cover the Signature-Agent member it names ("signature-agent";key="<label>").',
  },
  WEB_BOT_AUTH_AGENT_NOT_ALLOWED: {
    status: 401,
    message: 'This agent is not on the allowlist of this server.',
  },
  WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED: {
    status: 401,
    message: "The agent's directory host resolves to a loopback, private or otherwise non-public address.",
  },
  WEB_BOT_AUTH_DIRECTORY_REDIRECT: {
    status: 401,
    message: "The agent's key directory answered with a redirect; redirects are never followed.",
  },
  WEB_BOT_AUTH_DIRECTORY_TOO_LARGE: {
    status: 401,
    message: "The agent's key directory is larger than this server accepts.",
  },
  WEB_BOT_AUTH_DIRECTORY_INVALID: {
    status: 401,
    message:
      "The agent's key directory is not a valid JWK Set served as application/http-message-signatures-directory+json with status 200.",
  },
  WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID: {
    status: 401,
    message: "A signature on the agent's key directory does not verify, or a key in it is unsigned.",
  },
  WEB_BOT_AUTH_AGENT_FORBIDDEN: {
    status: 403,
    message:
      "A Web Bot Auth agent acts as its account on the app's routes, not on the account's keys: sign with a registered key.",
  },
  WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE: {
    status: 401,
    message: "The agent's key directory could not be fetched and no usable cached copy is left.",
  },
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERROR_CODES;
