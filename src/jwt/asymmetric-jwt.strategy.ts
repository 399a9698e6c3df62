import { authError } from '../errors/keypair-auth.exception';
import { KeypairStrategy } from '../guards/keypair-strategy';
import type { StrategyEntry } from '../guards/passport-registry';
import { readAuthorization } from '../http/authorization-header';
import { requestOrigin } from '../http/request-origin';
import { AsymmetricJwtAuthenticator } from './asymmetric-jwt.authenticator';

export const KEYPAIR_JWT_STRATEGY = 'keypair-jwt';

/** The guard routes `Authorization: JWT …` and `Authorization: Bearer …` here. */
export const asymmetricJwtEntry: StrategyEntry = {
  name: KEYPAIR_JWT_STRATEGY,
  claims: (request) => {
    const scheme = readAuthorization(request)?.scheme;
    return scheme === 'jwt' || scheme === 'bearer';
  },
  challenge: 'JWT realm="keypair-auth", Bearer realm="keypair-auth"',
};

/**
 * Passport strategy (registered as `keypair-jwt`) for `Authorization: JWT <token>` / `Bearer <token>`. Thin: it
 * adapts the request and hands the token to the authenticator.
 */
export class AsymmetricJwtStrategy extends KeypairStrategy {
  constructor(authenticator: AsymmetricJwtAuthenticator, configuredOrigin: string | null) {
    super((request) => {
      const authorization = readAuthorization(request);
      if (!authorization) throw authError('CREDENTIALS_MISSING', 'no Authorization header');
      if (authorization.scheme !== 'jwt' && authorization.scheme !== 'bearer') {
        throw authError('MALFORMED_CREDENTIALS', 'Authorization scheme is not JWT or Bearer');
      }
      const info = {
        method: request.method,
        url: request.url,
        origin: requestOrigin(request, configuredOrigin),
      };
      return authenticator.authenticate(authorization.credentials, info);
    });
  }
}
