/** DI token of the ResponseSigner (null when `responseSigning` is not configured). */
export const RESPONSE_SIGNER = Symbol('KEYPAIR_AUTH_RESPONSE_SIGNER');
