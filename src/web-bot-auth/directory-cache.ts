import { LRUCache } from 'lru-cache';
import { authError, KeypairAuthException } from '../errors/keypair-auth.exception';
import { parseDirectory } from './agent-directory';
import { fetchDirectory, type FetchedDirectory } from './directory-fetcher';
import type { AgentKeySource, DirectoryKey } from './directory-key';
import type { ResolvedDirectoryOptions } from './web-bot-auth-options';

/** What fetches one agent's directory: fetchDirectory, or a stand-in in tests. */
export type DirectoryFetch = (origin: string, options: ResolvedDirectoryOptions) => Promise<FetchedDirectory>;

/** Where the cache reports skipped keys, failed fetches and stale answers. */
export interface DirectoryCacheLogger {
  warn(message: string): void;
}

/**
 * Passed to LRUCache.get on the hot path: without it, get() allocates its default `{}` on
 * every call. Not frozen: get() writes its (undefined) `status` member into it.
 */
const GET_OPTIONS: LRUCache.GetOptions<string, CachedDirectory, unknown> = {};

/** One agent origin's directory and the state of its fetches. */
interface CachedDirectory {
  /** The last directory that fetched and parsed, replaced whole by the next; null until one did. */
  keys: ReadonlyMap<string, DirectoryKey> | null;
  freshUntil: number;
  /** freshUntil + staleSeconds: until then a failed refresh still leaves `keys` answering. */
  staleUntil: number;
  /** The last fetch's failure, answered without a new fetch until failedUntil; null after a success. */
  failure: KeypairAuthException | null;
  failedUntil: number;
  /** When the last fetch started: bounds refetches for unknown keyids. */
  lastFetchAt: number;
  /** The fetch in flight, shared by every request that needs it. */
  /** The fetch in flight, shared by every request that needs it: true when it brought a directory. */
  inflight: Promise<boolean> | null;
}

/**
 * The lifetime of a fetched directory in seconds (docs/SECURITY.md G92): Cache-Control
 * max-age, minCacheSeconds for no-store or no-cache, defaultCacheSeconds without either;
 * always clamped to [minCacheSeconds, maxCacheSeconds], so an agent can neither make us fetch
 * on every request nor pin a key for longer than we allow.
 */
export function directoryLifetimeSeconds(
  cacheControl: string | undefined,
  options: Pick<ResolvedDirectoryOptions, 'minCacheSeconds' | 'maxCacheSeconds' | 'defaultCacheSeconds'>,
): number {
  let seconds = options.defaultCacheSeconds;
  let maxAge: number | undefined;
  for (const directive of (cacheControl ?? '').split(',')) {
    const [name, value = ''] = directive.split('=', 2).map((part) => part.trim());
    const lower = name.toLowerCase();
    if (lower === 'no-store' || lower === 'no-cache') {
      seconds = options.minCacheSeconds;
      maxAge = undefined;
      break;
    }
    if (lower === 'max-age') {
      const digits = value.replace(/^"(.*)"$/, '$1');
      // A malformed max-age counts as 0 (RFC 9111 §4.2.1: treat as stale), hence min.
      const parsed = /^\d{1,10}$/.test(digits) ? Number(digits) : 0;
      maxAge = maxAge === undefined ? parsed : Math.min(maxAge, parsed);
    }
  }
  if (maxAge !== undefined) seconds = maxAge;
  return Math.min(Math.max(seconds, options.minCacheSeconds), options.maxCacheSeconds);
}

/**
 * Agent keys from the agents' own directories, fetched on demand and cached by agent origin
 * (docs/SECURITY.md G90, G92):
 * - a key of a fresh directory is returned synchronously (the hot path: one LRU read, one
 *   Map read, no allocation);
 * - concurrent misses for one origin share one fetch;
 * - a failed fetch leaves the last good directory answering until staleSeconds past its
 *   freshness, then its code is thrown; a failure is answered without a new fetch for
 *   failureBackoffSeconds;
 * - a successful fetch replaces the directory whole, so a key the agent removed stops at once;
 * - a keyid missing from a fresh directory refetches it at most once per
 *   refetchUnknownKeySeconds, else (and when still missing, or outside the key's nbf/exp)
 *   KEY_UNKNOWN_OR_SIGNATURE_INVALID, the answer a bad signature gets.
 */
export class DirectoryCache implements AgentKeySource {
  /**
   * Exact allowlist origins (no `admitNewHost`), whatever their state: as many as the
   * allowlist names, never evicted, so no host under a pattern can push one out.
   */
  private readonly exact = new Map<string, CachedDirectory>();
  /** Hosts under `*.` patterns with a directory that fetched and parsed. */
  private readonly entries: LRUCache<string, CachedDirectory>;
  /**
   * Origins without one yet (first fetch in flight, or failed), in a cache of their own: a
   * stream of requests naming new hosts under an allowlisted `*.` pattern churns this one and
   * never evicts a directory that works.
   */
  private readonly pending: LRUCache<string, CachedDirectory>;
  /**
   * The entries whose fetch is in flight, by origin (at most maxConcurrentFetches): a request
   * shares such a fetch even if its cache let go of the entry meanwhile.
   */
  private readonly loading = new Map<string, CachedDirectory>();
  private readonly skipped: (reason: string) => void;

  constructor(
    private readonly options: ResolvedDirectoryOptions,
    private readonly logger?: DirectoryCacheLogger,
    private readonly fetch: DirectoryFetch = fetchDirectory,
  ) {
    this.entries = new LRUCache({ max: options.maxEntries });
    this.pending = new LRUCache({ max: options.maxEntries });
    this.skipped = (reason) => this.logger?.warn(reason);
  }

  key(
    origin: string,
    thumbprint: string,
    now: number,
    admitNewHost?: (now: number) => boolean,
  ): DirectoryKey | Promise<DirectoryKey> {
    const entry =
      this.exact.get(origin) ??
      this.entries.get(origin, GET_OPTIONS) ??
      this.pending.get(origin, GET_OPTIONS) ??
      this.loading.get(origin);
    if (entry !== undefined && entry.keys !== null && now < entry.freshUntil) {
      const key = entry.keys.get(thumbprint);
      if (key !== undefined) return checkKeyValidity(key, origin, now);
      // Maybe the agent just rotated; but random keyids must not make us fetch on each request.
      if (entry.inflight === null && now - entry.lastFetchAt < this.options.refetchUnknownKeySeconds * 1000) {
        throw unknownKey(origin, thumbprint, 'is not in its directory');
      }
      return this.refresh(origin, entry, thumbprint, now);
    }
    if (entry !== undefined) return this.refresh(origin, entry, thumbprint, now, admitNewHost);
    // A host never seen: refused before it takes a place in the cache, so requests refused
    // here cannot churn out the state (backoff, a fetch in flight) of other agents.
    this.admitFetch(origin, now, admitNewHost);
    return this.refresh(origin, this.create(origin, admitNewHost === undefined), thumbprint, now);
  }

  /**
   * Whether a first fetch for an agent without a directory may start now: a free fetch slot
   * (maxConcurrentFetches), then the new-host budget of its `*.` pattern (checked second, so a
   * request refused for want of a slot does not spend it). Throws the refusal.
   */
  private admitFetch(origin: string, now: number, admitNewHost?: (now: number) => boolean): void {
    if (this.loading.size >= this.options.maxConcurrentFetches) {
      throw authError(
        'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
        `${origin}: ${this.loading.size} directory fetches already in flight (directory.maxConcurrentFetches)`,
      );
    }
    if (admitNewHost && !admitNewHost(now)) {
      throw authError(
        'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
        `${origin}: too many new hosts under its allowlist pattern this minute (directory.maxNewAgentsPerMinute); not fetched`,
      );
    }
  }

  private create(origin: string, exact: boolean): CachedDirectory {
    const entry: CachedDirectory = {
      keys: null,
      freshUntil: 0,
      staleUntil: 0,
      failure: null,
      failedUntil: 0,
      lastFetchAt: Number.NEGATIVE_INFINITY,
      inflight: null,
    };
    if (exact) this.exact.set(origin, entry);
    else this.pending.set(origin, entry);
    return entry;
  }

  private async refresh(
    origin: string,
    entry: CachedDirectory,
    thumbprint: string,
    now: number,
    admitNewHost?: (now: number) => boolean,
  ): Promise<DirectoryKey> {
    const backingOff = entry.failure !== null && now < entry.failedUntil;
    let fetched = false;
    if (!backingOff) {
      // An agent that never had a directory is a new host again: a slot, then its pattern's budget.
      if (entry.inflight === null && entry.keys === null) this.admitFetch(origin, now, admitNewHost);
      if (entry.inflight === null && this.loading.size >= this.options.maxConcurrentFetches) {
        // Bounded work: a burst naming many agents waits for nothing and fetches nothing more.
        entry.failure = authError(
          'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
          `${origin}: ${this.loading.size} directory fetches already in flight (directory.maxConcurrentFetches)`,
        );
        entry.failedUntil = now;
      } else {
        entry.inflight ??= this.load(origin, entry, now);
        fetched = await entry.inflight;
      }
    }
    // A request that waited for a fetch that brought a directory is answered from it, whatever
    // its lifetime (max-age=0 with minCacheSeconds and staleSeconds 0 included); others only
    // while the directory is fresh or stale within staleSeconds.
    if (entry.keys !== null && (fetched || now <= entry.staleUntil)) {
      const key = entry.keys.get(thumbprint);
      if (key === undefined) throw unknownKey(origin, thumbprint, 'is not in its directory');
      return checkKeyValidity(key, origin, now);
    }
    throw (
      entry.failure ??
      authError('WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', `${origin}: no directory could be fetched`)
    );
  }

  private async load(origin: string, entry: CachedDirectory, now: number): Promise<boolean> {
    entry.lastFetchAt = now;
    this.loading.set(origin, entry);
    try {
      const fetched = await this.fetch(origin, this.options);
      const keys = parseDirectory(fetched, this.options, now, this.skipped);
      const freshUntil = now + directoryLifetimeSeconds(fetched.cacheControl, this.options) * 1000;
      entry.keys = keys;
      entry.freshUntil = freshUntil;
      entry.staleUntil = freshUntil + this.options.staleSeconds * 1000;
      entry.failure = null;
      entry.failedUntil = 0;
      // A pattern's host joins the working directories, even if the pending cache let go of it meanwhile.
      if (!this.exact.has(origin)) {
        this.pending.delete(origin);
        this.entries.set(origin, entry);
      }
      return true;
    } catch (error) {
      const failure =
        error instanceof KeypairAuthException
          ? error
          : authError(
              'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
              `${origin}: ${error instanceof Error ? error.message : String(error)}`,
            );
      entry.failure = failure;
      entry.failedUntil = now + this.options.failureBackoffSeconds * 1000;
      const stale =
        entry.keys !== null && now < entry.staleUntil
          ? `; the directory fetched before keeps answering until ${new Date(entry.staleUntil).toISOString()}`
          : '';
      this.logger?.warn(`Web Bot Auth directory ${failure.code}: ${failure.reason}${stale}`);
      return false;
    } finally {
      this.loading.delete(origin);
      entry.inflight = null;
    }
  }
}

/** The key, when `now` is within its JWK nbf/exp; else the answer an unknown key gets. */
function checkKeyValidity(key: DirectoryKey, origin: string, now: number): DirectoryKey {
  if (key.notBefore !== null && now < key.notBefore) {
    throw unknownKey(
      origin,
      key.thumbprint,
      `is not valid before ${new Date(key.notBefore).toISOString()} (nbf)`,
    );
  }
  if (key.expiresAt !== null && now >= key.expiresAt) {
    throw unknownKey(origin, key.thumbprint, `expired at ${new Date(key.expiresAt).toISOString()} (exp)`);
  }
  return key;
}

function unknownKey(origin: string, thumbprint: string, what: string): KeypairAuthException {
  return authError('KEY_UNKNOWN_OR_SIGNATURE_INVALID', `key ${thumbprint} of agent ${origin} ${what}`);
}
