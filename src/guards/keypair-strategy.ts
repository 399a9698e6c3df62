import { Strategy as CustomStrategy, VerifiedCallback } from 'passport-custom';
import type { SecurityContext } from '../context/security-context';
import { AuthRequest, toAuthRequest } from '../http/auth-request';

/** What a strategy does with one request: its SecurityContext, or a rejection with an auth error. */
export type StrategyRun = (request: AuthRequest, req: unknown) => Promise<SecurityContext>;

/**
 * A passport-custom strategy whose work is one function of the request. Passport
 * (`AuthGuard('keypair-jwt')`, `passport.authenticate(...)`) calls it through the
 * verify callback as usual. KeypairAuthGuard calls `run` directly, with the
 * AuthRequest it already built: Passport's authenticate() creates a middleware, a
 * strategy object and five closures per request and adds login/logout properties
 * to the request object, which cost more than all of our own per-request work on
 * Express (see bench/README.md). Either way the same function decides.
 */
export class KeypairStrategy extends CustomStrategy {
  constructor(readonly run: StrategyRun) {
    super((req: unknown, done: VerifiedCallback) => {
      let result: Promise<SecurityContext>;
      try {
        result = run(toAuthRequest(req), req);
      } catch (error) {
        done(error);
        return;
      }
      result.then(
        (context) => done(null, context),
        (error: unknown) => done(error),
      );
    });
  }
}
