// Client SDK: `import { createAuthHeader } from 'nestjs-keypair-auth/client'`.
// Depends only on node:crypto and jose; no server code, no database driver.
export { createAuthHeader, resolvePrivateKey } from './create-auth-header';
export type { CreateAuthHeaderOptions } from './create-auth-header';
export { signRequest } from './sign-request';
export { createSignedFetch } from './signed-fetch';
export type { SignedFetch, SignedFetchOptions } from './signed-fetch';
export { ResponseVerificationError, serverKeysFromJwks, verifySignedResponse } from './verify-response';
// To bind a request body that the caller sends itself (a bearer token with fetch) to the answer.
export { computeContentDigest } from '../http-signatures/digest/content-digest';
export type { RequestToBind, ResponseToVerify, ServerKey, ServerKeys } from './verify-response';
export type { RequestToSign, SignRequestOptions, SignedRequest } from './sign-request';
export { createTokenClient, TokenClient, TokenRequestError } from './token-client';
export type { TokenClientOptions, TokenSet } from './token-client';
export { createDpopProof } from '../tokens/dpop-proof';
export type { DpopProofOptions } from '../tokens/dpop-proof';
export { challengeSigningInput, CHALLENGE_SIGNING_PREFIX } from '../tokens/challenge-signing-input';
export { generateKeyPair } from '../keys/formats/key-generation';
export { loadPrivateKey } from '../keys/formats/private-key-loader';
export type { KeyAlgorithm } from '../keys/key-algorithm';
