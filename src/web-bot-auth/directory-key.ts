import type { KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../keys/key-algorithm';

/** One key of an agent's directory, parsed and checked once when the directory is fetched. */
export interface DirectoryKey {
  /** RFC 7638 SHA-256 thumbprint: what a signature's `keyid` names. */
  readonly thumbprint: string;
  /** The one algorithm this key verifies, from the key (and its JWK `alg`), never from a request. */
  readonly algorithm: KeyAlgorithm;
  readonly keyObject: KeyObject;
  /** The JWK's own `nbf` and `exp` (ms since the epoch), when it has them. */
  readonly notBefore: number | null;
  readonly expiresAt: number | null;
}

/**
 * Where the verifier gets an agent's keys: from a cache of directories fetched from the
 * allowlisted agent origins (directory-cache.ts). Returns synchronously on a cache hit.
 * Throws a KeypairAuthException: KEY_UNKNOWN_OR_SIGNATURE_INVALID when the directory has
 * no such key (answered like a bad signature), or a WEB_BOT_AUTH_DIRECTORY_* code when
 * the directory cannot be had.
 */
export interface AgentKeySource {
  /**
   * `admitNewHost` is given for a host under a `*.` allowlist pattern (undefined for an exact
   * allowlist origin): it is asked before the first fetch of such a host without a directory
   * (it counts that fetch); false refuses WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE unfetched.
   */
  key(
    agentOrigin: string,
    thumbprint: string,
    now: number,
    admitNewHost?: (now: number) => boolean,
  ): DirectoryKey | Promise<DirectoryKey>;
}
