import passport from 'passport';
import type { Strategy } from 'passport';

/**
 * The strategies of one module instance, in a Passport instance of their own. The
 * guard authenticates through this instance, so two apps in one process (tests,
 * or an admin app beside a public one) never share strategies. The same strategies
 * are also registered on the global `passport` under their prefixed names, so
 * `AuthGuard('keypair-jwt')` from @nestjs/passport works as usual.
 */
export class PassportRegistry {
  readonly passport = new passport.Passport();
  readonly names: string[] = [];

  use(name: string, strategy: Strategy): void {
    this.passport.use(name, strategy);
    passport.use(name, strategy);
    this.names.push(name);
  }

  authenticate<T>(name: string, req: unknown, res: unknown): Promise<T> {
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
