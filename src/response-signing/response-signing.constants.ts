/** DI token of the ResponseSigner (null when `responseSigning` is not configured). */
export const RESPONSE_SIGNER = Symbol('KEYPAIR_AUTH_RESPONSE_SIGNER');

/**
 * DI token of the ServerKeyring (null when no server keys are configured): the
 * server's own keys, shared by the response signer, the token issuer and the
 * `/.well-known/jwks.json` endpoint.
 */
export const SERVER_KEYRING = Symbol('KEYPAIR_AUTH_SERVER_KEYRING');

/**
 * Handler metadata: the route writes its own signed bytes and headers (the Web Bot Auth key
 * directory), so SignResponseInterceptor must pass it through, even with signAllResponses:
 * re-serializing its body would break the signatures it carries.
 */
export const SIGNS_OWN_RESPONSE = 'keypair-auth:signs-own-response';
