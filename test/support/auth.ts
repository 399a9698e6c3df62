import { KeyObject } from 'node:crypto';
import { seedClaims, sign } from './tokens';

/** `JWT <token>` for a user's Ed25519 key, fresh each call (new nonce). */
export async function jwtHeader(privateKey: KeyObject, username: string, kid: string): Promise<string> {
  return `JWT ${await sign(privateKey, { alg: 'EdDSA', kid }, seedClaims(username))}`;
}
