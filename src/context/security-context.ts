/** How the caller proved who it is. */
export type AuthMethod =
  'jwt' | 'http-signature-rfc9421' | 'http-signature-cavage' | 'client-certificate' | 'access-token';

/** The account as the library sees it, whichever user store backs it. */
export interface AuthUser {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
  readonly active: boolean;
}

/**
 * Who is calling, proven by which credential, allowed which roles. Built once per
 * request by the strategy that succeeded, frozen, and carried on the request object
 * (`request.securityContext`), so reading it costs a property access: no
 * request-scoped provider and no interceptor (see README, "Why the context is fast").
 */
export class SecurityContext {
  /** Effective roles: the account's roles that the credential's role subset allows. */
  readonly roles: readonly string[];
  private readonly roleSet: ReadonlySet<string>;

  constructor(
    readonly user: AuthUser,
    readonly keyId: string,
    readonly method: AuthMethod,
    keyRoles: readonly string[] | null,
  ) {
    this.roles = Object.freeze(effectiveRoles(user.roles, keyRoles));
    this.roleSet = new Set(this.roles);
    Object.freeze(this);
  }

  get username(): string {
    return this.user.username;
  }

  hasRole(role: string): boolean {
    return this.roleSet.has(role);
  }

  toJSON(): { username: string; keyId: string; method: AuthMethod; roles: readonly string[] } {
    return { username: this.user.username, keyId: this.keyId, method: this.method, roles: this.roles };
  }
}

/**
 * A role counts only if the account has it AND the credential's subset allows it.
 * A credential without a subset (null) carries all of the account's roles.
 */
export function effectiveRoles(userRoles: readonly string[], keyRoles: readonly string[] | null): string[] {
  if (keyRoles === null) return [...userRoles];
  const allowed = new Set(keyRoles);
  return userRoles.filter((r) => allowed.has(r));
}
