/** How the caller proved who it is. */
export type AuthMethod =
  | 'jwt'
  | 'http-signature-rfc9421'
  | 'http-signature-cavage'
  | 'client-certificate'
  | 'access-token'
  | 'web-bot-auth';

/** The Web Bot Auth agent a request was verified for (method 'web-bot-auth'). */
export interface WebBotAuthAgent {
  /** The agent's origin, normalized (https://crawler.example.com): its directory was fetched from there. */
  readonly origin: string;
  /** RFC 7638 SHA-256 thumbprint of the key that signed (also the context's keyId). */
  readonly thumbprint: string;
}

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
 * request-scoped provider and no interceptor (see docs/key-registry.md, "SecurityContext, and why it is fast").
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
    /**
     * When the credential itself stops being good (ms since the epoch): an access
     * token's `exp`; null for a one-shot credential (a signed request, a client JWT)
     * or one whose end is not known here. A WebSocket connection authenticated by it
     * is closed then (see docs/websockets.md). Not part of toJSON().
     */
    readonly expiresAt: number | null = null,
    /** The verified agent, for method 'web-bot-auth'; null otherwise. */
    readonly agent: WebBotAuthAgent | null = null,
  ) {
    const effective = cachedEffectiveRoles(user.roles, keyRoles);
    this.roles = effective.roles;
    this.roleSet = effective.set;
    Object.freeze(this);
  }

  get username(): string {
    return this.user.username;
  }

  hasRole(role: string): boolean {
    return this.roleSet.has(role);
  }

  toJSON(): {
    username: string;
    keyId: string;
    method: AuthMethod;
    roles: readonly string[];
    agent?: WebBotAuthAgent;
  } {
    const json = { username: this.user.username, keyId: this.keyId, method: this.method, roles: this.roles };
    return this.agent
      ? { ...json, agent: { origin: this.agent.origin, thumbprint: this.agent.thumbprint } }
      : json;
  }
}

interface EffectiveRoles {
  /** Copies of the inputs, to notice an array changed in place since. */
  readonly userRoles: readonly string[];
  readonly keyRoles: readonly string[] | null;
  readonly roles: readonly string[];
  readonly set: ReadonlySet<string>;
}

/**
 * Effective roles by the identity of the two role arrays: the key and account
 * objects come from the key cache, so a steady stream of requests asks for the
 * same pair again and again, and freezing a new array and building a Set for each
 * request showed in the profile. Weak on both sides, so nothing outlives its key or
 * account. A hit is used only if both arrays still hold what they held (a user
 * directory may change an account's roles in place).
 */
const effectiveByUserRoles = new WeakMap<readonly string[], WeakMap<object, EffectiveRoles>>();
const ALL_ROLES = {}; // the WeakMap key for "no subset" (keyRoles null)

function cachedEffectiveRoles(
  userRoles: readonly string[],
  keyRoles: readonly string[] | null,
): EffectiveRoles {
  let byKey = effectiveByUserRoles.get(userRoles);
  const cached = byKey?.get(keyRoles ?? ALL_ROLES);
  if (cached && sameRoles(cached.userRoles, userRoles) && sameRoles(cached.keyRoles, keyRoles)) return cached;
  const roles = Object.freeze(effectiveRoles(userRoles, keyRoles));
  const value: EffectiveRoles = {
    userRoles: [...userRoles],
    keyRoles: keyRoles && [...keyRoles],
    roles,
    set: new Set(roles),
  };
  if (!byKey) effectiveByUserRoles.set(userRoles, (byKey = new WeakMap()));
  byKey.set(keyRoles ?? ALL_ROLES, value);
  return value;
}

function sameRoles(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
