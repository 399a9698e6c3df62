import type { KeyObject } from 'node:crypto';
import { parsePublicKey } from '../keys/formats/public-key-parser';
import { publicKeyFromPrivate } from '../keys/formats/private-key-loader';

/**
 * The keyId every signing command (token, request, login) sends when --key-id is
 * not given: the key's fingerprint (RFC 7638 JWK thumbprint, base64url), which is
 * the keyId `keys add` assigns and prints when it is not given --key-id either.
 */
export function defaultKeyId(privateKey: KeyObject): string {
  const spki = publicKeyFromPrivate(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return parsePublicKey(spki).thumbprint;
}

export const KEY_ID_OPTION_HELP =
  'the keyId the key was registered under (default: the key fingerprint, which `keys add` assigns when not given --key-id)';
