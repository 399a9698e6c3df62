import { Logger } from '@nestjs/common';
import passport from 'passport';
import type { PassportStatic, Strategy } from 'passport';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { authError } from '../errors/keypair-auth.exception';
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

/** The registries of the module instances running in this process, and the HTTP servers they serve. */
const running = new Set<PassportRegistry>();
const servedBy = new WeakMap<object, PassportRegistry>();

/** The module instance a request belongs to: the only one running, else the one serving its HTTP server. */
function ownerOf(req: unknown): PassportRegistry | undefined {
  if (running.size === 1) return running.values().next().value;
  // Express hands over the IncomingMessage, Fastify its request (the IncomingMessage is `raw`).
  const r = req as { raw?: { socket?: { server?: object } }; socket?: { server?: object } };
  const server = (r.raw ?? r).socket?.server;
  return server ? servedBy.get(server) : undefined;
}

const PASSPORT_ACTIONS = ['success', 'fail', 'error', 'pass', 'redirect'] as const;

/**
 * What the global `passport` holds under each prefixed name: it runs the strategy of the
 * module instance the request belongs to. So `AuthGuard('keypair-jwt')` in one of two apps
 * in one process decides with that app's keys, `origin` and options, never with those of
 * the app that registered last; a request no running instance serves is refused (401
 * AUTHENTICATION_FAILED, and an error log naming the fix), never a pass.
 */
class DelegatingStrategy implements Strategy {
  constructor(readonly name: string) {}

  authenticate(
    this: Strategy & Record<(typeof PASSPORT_ACTIONS)[number], unknown>,
    req: never,
    options?: unknown,
  ) {
    const strategy = ownerOf(req)?.strategy(this.name!);
    if (!strategy) {
      // A configuration problem, not the client's: refused (401, never a 500 or a pass),
      // with the fix in the server log.
      const problem = ConfigError.create(
        `AuthGuard('${this.name}') got a request that no running KeypairAuthModule serves ` +
          `(${running.size} running in this process).`,
        'Use KeypairAuthGuard, which always uses its own module instance, or run one app per process.',
      );
      new Logger('KeypairAuth').error(problem.message);
      return (this.error as (e: Error) => void)(authError('AUTHENTICATION_FAILED', problem.message));
    }
    // Passport gave `this` the actions of this request; the owner's strategy runs with them.
    const bound = Object.create(strategy) as Record<string, unknown>;
    for (const action of PASSPORT_ACTIONS) bound[action] = this[action];
    return strategy.authenticate.call(bound as never, req, options);
  }
}

/**
 * The strategies of one module instance, in a Passport instance of their own. The
 * guard authenticates through this instance, so two apps in one process (tests,
 * or an admin app beside a public one) never share strategies. For
 * `AuthGuard('keypair-jwt')` from @nestjs/passport, the global `passport` holds a
 * DelegatingStrategy under each prefixed name, which runs the strategy of the module
 * instance whose HTTP server received the request (`serve()`); with one instance in
 * the process, that one.
 */
export class PassportRegistry {
  readonly passport: InstanceType<PassportStatic['Passport']> = new passport.Passport();
  readonly entries: StrategyEntry[] = [];
  /** The strategies' own functions, called without Passport's per-request machinery (see KeypairStrategy). */
  private readonly runs = new Map<string, StrategyRun>();
  private readonly strategies = new Map<string, Strategy>();

  constructor() {
    running.add(this);
  }

  use(entry: StrategyEntry, strategy: Strategy): void {
    this.passport.use(entry.name, strategy);
    passport.use(entry.name, new DelegatingStrategy(entry.name));
    this.strategies.set(entry.name, strategy);
    this.entries.push(entry);
    if (strategy instanceof KeypairStrategy) this.runs.set(entry.name, strategy.run);
  }

  /** This instance's strategy of that name. */
  strategy(name: string): Strategy | undefined {
    return this.strategies.get(name);
  }

  /** Requests that reach this HTTP server are this instance's, for the globally registered strategies. */
  serve(server: object): void {
    servedBy.set(server, this);
  }

  /** This instance stops serving the globally registered strategies (the module is shutting down). */
  close(): void {
    running.delete(this);
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
