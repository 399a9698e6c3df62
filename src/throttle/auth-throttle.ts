import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { AuthRequest } from '../http/auth-request';
import type { ResolvedThrottleOptions } from './throttle-options';
import {
  addressKey,
  addressStoreKey,
  ClaimedIdentity,
  claimedIdentity,
  identityStoreKey,
} from './throttle-keys';
import type { ThrottleStore } from './throttle-store.interface';

/** How often a failing store is reported in the log, at most. */
const STORE_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Throttles failed authentication. Each 401 is counted in the ThrottleStore under
 * the client's address and under the key id the request claimed (hashed, bounded).
 * A key that reaches `maxFailures` in its window is remembered here until the window
 * ends, and requests under it are refused with 429 before any lookup or signature
 * check. Only failures are counted, and a success does not reset a counter: an
 * attacker cannot interleave one valid request to keep guessing.
 *
 * The check reads this instance's own memory, so it costs nothing on the success
 * path; the counts are shared through the store. With several instances on one
 * RedisThrottleStore, an instance learns that a key is over the limit on the first
 * failure it counts itself: at most one more failure per instance gets through.
 *
 * Fails open: when the store cannot answer, failures are not counted (and this is
 * logged). A throttle never grants access, so its outage must not deny it either.
 */
export class AuthThrottle {
  private readonly blocked = new LRUCache<string, number>({ max: 100_000 });
  /** The latest moment any key is blocked until: after it, the check does no work at all. */
  private blockedUntilMax = 0;
  private readonly logger = new Logger('KeypairAuth');
  private lastStoreErrorLog = 0;

  constructor(
    readonly settings: ResolvedThrottleOptions,
    readonly store: ThrottleStore,
  ) {}

  /**
   * Before authentication: milliseconds until this request may be tried again, or
   * null when it may go ahead. Synchronous and local. `claimed` replaces what the
   * headers claim (the token endpoint's challenge answers name their key in the body).
   */
  check(req: unknown, request: AuthRequest, claimed?: ClaimedIdentity, now = Date.now()): number | null {
    if (this.blockedUntilMax <= now) {
      if (this.blocked.size > 0) this.blocked.clear();
      return null;
    }
    let until = 0;
    for (const key of this.keysOf(req, request, claimed)) {
      const blockedUntil = this.blocked.get(key);
      if (blockedUntil !== undefined && blockedUntil > until) until = blockedUntil;
    }
    return until > now ? until - now : null;
  }

  /** After a 401: counts it under each key. Never throws; a failing store is logged and ignored. */
  async recordFailure(req: unknown, request: AuthRequest, claimed?: ClaimedIdentity): Promise<void> {
    const keys = this.keysOf(req, request, claimed);
    await Promise.all(
      keys.map(async (key) => {
        try {
          const { count, resetInMs } = await this.store.hit(key, this.settings.windowMs);
          if (count >= this.settings.maxFailures) this.block(key, Date.now() + Math.max(resetInMs, 1));
        } catch (error) {
          this.storeFailed(error);
        }
      }),
    );
  }

  /** The store keys a request is counted under: `a:<address>` and `k:<sha-256 of the claimed key id>`. */
  keysOf(req: unknown, request: AuthRequest, claimed = claimedIdentity(request.rawHeaders)): string[] {
    const keys: string[] = [];
    if (this.settings.byAddress) {
      const address = this.addressOf(req, request);
      if (address) keys.push(addressStoreKey(addressKey(address)));
    }
    if (this.settings.byKeyId && claimed !== undefined) keys.push(identityStoreKey(claimed));
    return keys;
  }

  private addressOf(req: unknown, request: AuthRequest): string | undefined {
    if (!this.settings.clientAddress) return request.remoteAddress;
    try {
      const address = this.settings.clientAddress(req);
      return typeof address === 'string' && address.length > 0 ? address : request.remoteAddress;
    } catch {
      return request.remoteAddress;
    }
  }

  private block(key: string, until: number): void {
    const previous = this.blocked.get(key);
    if (previous === undefined || previous < until) this.blocked.set(key, until);
    if (until > this.blockedUntilMax) this.blockedUntilMax = until;
  }

  private storeFailed(error: unknown): void {
    const now = Date.now();
    if (now - this.lastStoreErrorLog < STORE_ERROR_LOG_INTERVAL_MS) return;
    this.lastStoreErrorLog = now;
    this.logger.error(
      `throttle store unavailable, failed authentications are not being counted (failing open): ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
