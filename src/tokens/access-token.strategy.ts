import { authError } from '../errors/keypair-auth.exception';
import { KeypairStrategy } from '../guards/keypair-strategy';
import type { StrategyEntry } from '../guards/passport-registry';
import { readAuthorization } from '../http/authorization-header';
import { requestOrigin } from '../http/request-origin';
import { looksLikeAccessToken } from './access-token';
import { AccessTokenAuthenticator } from './access-token.authenticator';
import { DPOP_ALGORITHMS } from './dpop-proof';
import { DpopVerifier } from './dpop.verifier';

export const KEYPAIR_ACCESS_TOKEN_STRATEGY = 'keypair-access-token';

/**
 * The guard routes `Authorization: DPoP …`, and `Authorization: Bearer <jwt>` whose
 * protected header says `typ: at+jwt` (or names a server key), here. It is
 * registered before the asymmetric-JWT entry, so any other Bearer JWT still goes there.
 */
export function accessTokenEntry(authenticator: AccessTokenAuthenticator): StrategyEntry {
  const keyring = authenticator.keyring;
  return {
    name: KEYPAIR_ACCESS_TOKEN_STRATEGY,
    claims: (request) => {
      const authorization = readAuthorization(request);
      if (!authorization) return false;
      if (authorization.scheme === 'dpop') return true;
      return authorization.scheme === 'bearer' && looksLikeAccessToken(authorization.credentials, keyring);
    },
    challenge: `DPoP algs="${DPOP_ALGORITHMS.join(' ')}"`,
  };
}

/**
 * Passport strategy (`keypair-access-token`) for the access tokens this server
 * issues. Thin: adapts the request and hands over to the authenticator.
 */
export class AccessTokenStrategy extends KeypairStrategy {
  constructor(authenticator: AccessTokenAuthenticator, configuredOrigin: string | null) {
    super((request) => {
      const authorization = readAuthorization(request);
      if (!authorization) throw authError('CREDENTIALS_MISSING', 'no Authorization header');
      if (authorization.scheme !== 'bearer' && authorization.scheme !== 'dpop') {
        throw authError('MALFORMED_CREDENTIALS', 'Authorization scheme is not Bearer or DPoP');
      }
      return authenticator.authenticate({
        scheme: authorization.scheme,
        token: authorization.credentials,
        method: request.method,
        url: request.url,
        origin: () => requestOrigin(request, configuredOrigin),
        dpopProof: DpopVerifier.proofOf(request.rawHeaders),
      });
    });
  }
}
