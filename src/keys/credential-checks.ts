import type { AuthUser } from '../context/security-context';
import { authError } from '../errors/keypair-auth.exception';
import type { RegisteredKey } from './registered-key';

/**
 * The checks every strategy makes once the signature has verified: only the holder
 * of the private key gets to learn that its key is revoked or expired, so these
 * distinct codes reveal nothing to anyone else.
 */
export function assertKeyUsable(key: RegisteredKey, user: AuthUser | null, now: number): AuthUser {
  if (key.revokedAt !== null && key.revokedAt <= now)
    throw authError('KEY_REVOKED', `key ${key.keyId} revoked`);
  if (key.expiresAt !== null && key.expiresAt <= now)
    throw authError('KEY_EXPIRED', `key ${key.keyId} expired`);
  if (!user)
    throw authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', `owner ${key.userId} of key ${key.keyId} not found`);
  if (!user.active) throw authError('USER_INACTIVE', `user ${user.username} inactive`);
  return user;
}
