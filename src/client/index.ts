// Client SDK: `import { createAuthHeader } from 'nestjs-keypair-auth/client'`.
// Depends only on node:crypto and jose; no server code, no database driver.
export { createAuthHeader, resolvePrivateKey } from './create-auth-header';
export type { CreateAuthHeaderOptions } from './create-auth-header';
export { signRequest } from './sign-request';
export { createSignedFetch } from './signed-fetch';
export type { SignedFetch, SignedFetchOptions } from './signed-fetch';
export { ResponseVerificationError, serverKeysFromJwks, verifySignedResponse } from './verify-response';
export type { ResponseToVerify, ServerKey, ServerKeys } from './verify-response';
export type { RequestToSign, SignRequestOptions, SignedRequest } from './sign-request';
export { generateKeyPair, loadPrivateKey } from '../keys/key-formats';
export type { KeyAlgorithm } from '../keys/key-algorithm';
