import { authError } from '../errors/keypair-auth.exception';
import { AuthRequest, headerValues } from './auth-request';

/**
 * `scheme://authority` of the request as this server is reached. The configured
 * origin wins; otherwise the connection's TLS state and the single Host header.
 * X-Forwarded-* is never read: a client could set it.
 */
export function requestOrigin(request: AuthRequest, configured: string | null): string {
  if (configured) return configured;
  const hosts = headerValues(request.rawHeaders, 'host');
  if (hosts.length !== 1 || hosts[0].length === 0 || hosts[0].length > 255 || /[\s/@?#]/.test(hosts[0])) {
    throw authError('MALFORMED_CREDENTIALS', 'exactly one valid Host header is required');
  }
  return `${request.encrypted ? 'https' : 'http'}://${hosts[0].toLowerCase()}`;
}
