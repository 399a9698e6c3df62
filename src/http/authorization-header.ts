import { authError } from '../errors/keypair-auth.exception';
import { AuthRequest, headerValues } from './auth-request';

const MAX_AUTHORIZATION_LENGTH = 16 * 1024;

export interface AuthorizationHeader {
  /** Lowercased scheme, e.g. `jwt`, `bearer`, `signature`. */
  readonly scheme: string;
  readonly credentials: string;
}

/**
 * The one Authorization header of a request, or null when there is none. Two
 * Authorization lines are refused: Node keeps only the first, and a proxy or app
 * might read the other.
 */
export function readAuthorization(request: AuthRequest): AuthorizationHeader | null {
  const values = headerValues(request.rawHeaders, 'authorization');
  if (values.length === 0) return null;
  if (values.length > 1) throw authError('MALFORMED_CREDENTIALS', 'more than one Authorization header');
  const value = values[0].trim();
  if (value.length > MAX_AUTHORIZATION_LENGTH)
    throw authError('MALFORMED_CREDENTIALS', 'Authorization header too long');
  const space = value.indexOf(' ');
  if (space <= 0)
    throw authError('MALFORMED_CREDENTIALS', 'Authorization header without scheme and credentials');
  return { scheme: value.slice(0, space).toLowerCase(), credentials: value.slice(space + 1).trim() };
}
