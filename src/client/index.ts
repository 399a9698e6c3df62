// Client SDK: `import { createAuthHeader } from 'nestjs-keypair-auth/client'`.
// Depends only on node:crypto and jose; no server code, no database driver.
export { createAuthHeader, resolvePrivateKey } from './create-auth-header';
export type { CreateAuthHeaderOptions } from './create-auth-header';
export { generateKeyPair, loadPrivateKey } from '../keys/key-formats';
export type { KeyAlgorithm } from '../keys/key-algorithm';
