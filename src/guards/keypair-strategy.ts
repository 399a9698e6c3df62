import passport from 'passport';
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
 * A Passport strategy whose work is one function of the request. Passport
 * (`AuthGuard('keypair-jwt')`, `passport.authenticate(...)`) calls `authenticate`
 * as usual: the context on success, the auth error otherwise. KeypairAuthGuard calls
 * `run` directly, with the AuthRequest it already built: Passport's authenticate()
 * creates a middleware, a strategy object and five closures per request and adds
 * login/logout properties to the request object, which cost more than all of our own
 * per-request work on Express (see bench/README.md). Either way the same function
 * decides. (Passport's own Strategy base, so the package needs no passport-custom:
 * a client-only install stays free of Passport and Express types.)
 */
export class KeypairStrategy extends passport.Strategy {
  constructor(readonly run: StrategyRun) {
    super();
  }

  override authenticate(req: unknown): void {
    runStrategy(this.run, toAuthRequest(req), req).then(
      (context) => this.success(context),
      (error: unknown) => this.error(error as Error),
    );
  }
}
