import type { AuthUser } from '../context/security-context';

/**
 * Where accounts come from. The default is the library's `User` entity; an app with
 * its own user table implements the two finders (and, for the admin user endpoints,
 * the optional management methods) and passes it as `users` in the module options.
 */
export interface AuthUserDirectory {
  findByUsername(username: string): Promise<AuthUser | null>;
  findById(id: string): Promise<AuthUser | null>;
  /** Optional: used by `POST /admin/users` and the CLI. */
  create?(username: string, roles: string[]): Promise<AuthUser>;
  /** Optional: used by `GET /admin/users` and the CLI. */
  list?(): Promise<AuthUser[]>;
  /** Optional: used by `PATCH /admin/users/:username` and the CLI. */
  setActive?(id: string, active: boolean): Promise<void>;
}

/** Usernames the built-in directory accepts: lowercase ASCII, so no Unicode look-alikes exist. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;

/** Role names: short ASCII tokens. */
export const ROLE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$/;
