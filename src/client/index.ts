// Client SDK: `import { createAuthHeader } from 'nestjs-keypair-auth/client'`.
// Depends only on node:crypto and jose; no server code, no database driver (ssh2 only on use).
export { createAuthHeader, resolvePrivateKey } from './create-auth-header';
export type { CreateAuthHeaderOptions } from './create-auth-header';
export { KeyFileError, MAX_KEY_FILE_BYTES } from './key-file';
export type { KeyFileErrorCode } from './key-file';
export { signRequest, signRequestAsync } from './sign-request';
// OpenSSH private keys and ssh-agent: need the optional peer ssh2 (npm install ssh2), loaded on use.
export { keySignerFor } from './key-signer';
export type { KeySigner } from './key-signer';
export { createSshAgentSigner, SshAgentSigner } from './ssh-agent-signer';
export type { SshAgentIdentity, SshAgentSignerOptions } from './ssh-agent-signer';
export { SshAgentError } from './ssh-agent-error';
export type { SshAgentErrorCode } from './ssh-agent-error';
export { isOpenSshPrivateKey, parseOpenSshPrivateKey } from '../keys/formats/openssh-private-key';
export { OpenSshKeyError } from '../keys/formats/openssh-key.error';
export type { OpenSshKeyErrorCode } from '../keys/formats/openssh-key.error';
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
// Web Bot Auth (draft-ietf-webbotauth-httpsig-protocol-01): sign as an agent, publish its directory.
export {
  signWebBotAuthRequest,
  signWebBotAuthRequestAsync,
  webBotAuthDirectory,
} from './web-bot-auth-signer';
export type { DirectoryJwk, SignatureAgentForm, WebBotAuthSignOptions } from './web-bot-auth-signer';
export { jwkThumbprint } from '../keys/jwk-thumbprint';
