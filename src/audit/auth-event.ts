import type { AuthMethod } from '../context/security-context';

/** Which decisions KeypairAuth writes to its log: every one, failures only (default), or none. */
export type AuditLogMode = 'all' | 'failures' | 'none';

/**
 * One authentication decision. Emitted once per decision, success or failure, to the
 * `KeypairAuth` logger (one JSON line, per `auditLog`) and to `onAuthEvent`. It never
 * carries a credential: no token, signature, certificate, nonce or key material, only
 * the identifiers below.
 */
export interface AuthEvent {
  /** `auth.success` or `auth.failure` (also the JSON line's `event`). */
  readonly event: 'auth.success' | 'auth.failure';
  /** When the decision was made, ISO 8601 UTC. */
  readonly time: string;
  readonly outcome: 'success' | 'failure';
  /**
   * How the caller authenticated or tried to: the SecurityContext's method on success
   * (and on a 403 after authentication), `challenge` for a challenge answer at
   * `POST /auth/token`; on other failures the kind of credential the request carried,
   * or null when it carried none.
   */
  readonly authMethod: AuthMethod | 'challenge' | null;
  /** The verified key id (or certificate fingerprint): on success and on a 403. */
  readonly keyId: string | null;
  /** On failures before authentication: the key id the request claimed, unverified, at most 128 characters. */
  readonly claimedKeyId: string | null;
  /** The account, when known (success, 403). */
  readonly username: string | null;
  /** The TCP peer address (`socket.remoteAddress`). */
  readonly remoteAddress: string | null;
  /** The HTTP method and the path without the query (at most 200 characters). */
  readonly method: string;
  readonly path: string;
  /** 200 for a success (the route's own status is not known yet), else the refusal's status. */
  readonly status: number;
  /** The error code of a failure (`KEY_UNKNOWN_OR_SIGNATURE_INVALID`, `AUTH_THROTTLED`, …), null on success. */
  readonly code: string | null;
  /** Why it failed, for the operator (never sent to the client), at most 300 characters; null on success. */
  readonly reason: string | null;
}

/** The `onAuthEvent` hook: called for every decision; errors and rejections are logged and ignored. */
export type AuthEventHandler = (event: AuthEvent) => void | Promise<void>;
