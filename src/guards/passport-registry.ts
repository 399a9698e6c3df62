import passport from 'passport';
import type { Strategy } from 'passport';
import { AuthRequest, toAuthRequest } from '../http/auth-request';
import { KeypairStrategy, runStrategy, type StrategyRun } from './keypair-strategy';

/**
 * How the guard recognises the requests a strategy is for. Checked in registration
 * order; the first strategy that claims the request is the only one that runs.
 */
export interface StrategyEntry {
  readonly name: string;
  /** True when the request carries this strategy's credentials. May throw an auth error (malformed). */
  readonly claims: (request: AuthRequest) => boolean;
  /** This strategy's challenge for `WWW-Authenticate` on a 401. */
  readonly challenge: string;
  /** Further headers of a 401 (e.g. `Accept-Signature`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The strategies of one module instance, in a Passport instance of their own. The
 * guard authenticates through this instance, so two apps in one process (tests,
 * or an admin app beside a public one) never share strategies. The same strategies
 * are also registered on the global `passport` under their prefixed names, so
 * `AuthGuard('keypair-jwt')` from @nestjs/passport works as usual.
 */
export class PassportRegistry {
  readonly passport = new passport.Passport();
  readonly entries: StrategyEntry[] = [];
  /** The strategies' own functions, called without Passport's per-request machinery (see KeypairStrategy). */
  private readonly runs = new Map<string, StrategyRun>();

  use(entry: StrategyEntry, strategy: Strategy): void {
    this.passport.use(entry.name, strategy);
    passport.use(entry.name, strategy);
    this.entries.push(entry);
    if (strategy instanceof KeypairStrategy) this.runs.set(entry.name, strategy.run);
  }

  /** The strategy whose credentials the request carries, or undefined. */
  select(request: AuthRequest): StrategyEntry | undefined {
    return this.entries.find((entry) => entry.claims(request));
  }

  /**
   * Authenticates with the named strategy: the SecurityContext, or a rejection with
   * the strategy's error. `request` is the request as toAuthRequest(req) sees it,
   * when the caller has built it already.
   */
  authenticate<T>(name: string, req: unknown, res: unknown, request?: AuthRequest): Promise<T> {
    const run = this.runs.get(name);
    if (run) return runStrategy(run, request ?? toAuthRequest(req), req) as Promise<T>;
    return new Promise<T>((resolve, reject) => {
      const middleware = this.passport.authenticate(
        name,
        { session: false },
        (error: unknown, user: T | false) => {
          if (error) reject(error);
          else if (user) resolve(user);
          else reject(new Error(`strategy ${name} neither succeeded nor failed with an error`));
        },
      ) as (req: unknown, res: unknown, next: (err?: unknown) => void) => void;
      middleware(req, res, (error?: unknown) => reject(error ?? new Error(`strategy ${name} called next()`)));
    });
  }
}
