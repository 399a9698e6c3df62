import { Strategy as CustomStrategy, VerifiedCallback } from 'passport-custom';
import type { SecurityContext } from '../context/security-context';
import { AuthRequest, toAuthRequest } from '../http/auth-request';

/** What a strategy does with one request: its SecurityContext, or a rejection with an auth error. */
export type StrategyRun = (request: AuthRequest, req: unknown) => Promise<SecurityContext>;

/** Calls a strategy's function; a synchronous throw becomes a rejection, so callers handle one path. */
export function runStrategy(run: StrategyRun, request: AuthRequest, req: unknown): Promise<SecurityContext> {
  try {
    return run(request, req);
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

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
      runStrategy(run, toAuthRequest(req), req).then(
        (context) => done(null, context),
        (error: unknown) => done(error),
      );
    });
  }
}
