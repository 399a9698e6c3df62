/**
 * Options of the Web Bot Auth verifier (`webBotAuth` in KeypairAuthModule options):
 * which agents are allowed and the account each maps to, how long a signature may
 * live, and the bounds on fetching and caching their key directories.
 * See docs/web-bot-auth.md.
 */
export interface WebBotAuthAgentOptions {
  /**
   * The agent's origin: `https://crawler.example.com`, `https://bots.example.com:8443`, or a
   * pattern `https://*.example.com` (one or more labels before `example.com`, never
   * `example.com` itself). Only https; no path, query, user or fragment.
   */
  origin: string;
  /** The account a verified request from this agent acts as (e.g. `crawler`). */
  username: string;
  /** Role subset of the account for this agent (e.g. `['reader']`); default: all of its roles. */
  roles?: string[];
}

export interface WebBotAuthDirectoryOptions {
  /** Wall-clock limit of one directory fetch, DNS, TLS and body included, in ms (default 3000). */
  timeoutMs?: number;
  /** Largest directory body accepted, in bytes (default 65,536). */
  maxBytes?: number;
  /** Most keys in one directory (default 16). */
  maxKeys?: number;
  /** Bounds on the Cache-Control lifetime of a fetched directory, in seconds (default 60 and 86,400). */
  minCacheSeconds?: number;
  maxCacheSeconds?: number;
  /** Lifetime of a directory sent without max-age, in seconds (default 300, then clamped). */
  defaultCacheSeconds?: number;
  /**
   * How long past its freshness a cached directory still verifies while its host cannot be
   * reached or answers wrongly, in seconds (default 3,600). After that: refused
   * (WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE or the failure's own code).
   */
  staleSeconds?: number;
  /** After a failed fetch, the failure is answered for this long without a new fetch, in seconds (default 10). */
  failureBackoffSeconds?: number;
  /** A keyid missing from a fresh directory refetches it at most this often, in seconds (default 30). */
  refetchUnknownKeySeconds?: number;
  /** Most agent directories cached, and apart from them most agents without one yet (default 1,000 each). */
  maxEntries?: number;
  /** Most directory fetches in flight at once, across agents; a request needing another is refused (default 8). */
  maxConcurrentFetches?: number;
  /**
   * Per `*.` allowlist pattern: most hosts under it fetched for the first time per minute; a request
   * naming one more new host is refused without a DNS lookup (default 30). Exact origins are not counted.
   */
  maxNewAgentsPerMinute?: number;
  /**
   * Directory response signatures (tag `http-message-signatures-directory`): 'verify-if-present'
   * (default: -01 makes them optional for a directory fetched directly): each present one must
   * verify; 'require': every key must also carry one. Either way a present signature that does
   * not verify refuses the whole directory.
   */
  signatures?: 'require' | 'verify-if-present';
  /** Extra CA certificates (PEM) trusted for directory hosts, besides Node's bundled roots. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Let agent hosts resolve to loopback addresses: for tests only, refused under NODE_ENV=production. */
  allowLoopback?: boolean;
}

export interface WebBotAuthOptions {
  /** The allowed agents; a request naming any other agent is refused before any network access. */
  agents: WebBotAuthAgentOptions[];
  /** Longest accepted `expires - created`, in seconds (default 300, at most 86,400). */
  maxLifetimeSeconds?: number;
  /** Refuse signatures without a `nonce` (default false: the draft makes it optional). */
  requireNonce?: boolean;
  directory?: WebBotAuthDirectoryOptions;
}

/** The media type of a key directory (draft-ietf-webbotauth-httpsig-protocol-01 §"Directory Format"). */
export const DIRECTORY_MEDIA_TYPE = 'application/http-message-signatures-directory+json';
/** The well-known path of a key directory. */
export const DIRECTORY_PATH = '/.well-known/http-message-signatures-directory';
/** The tag of a request signature, and of a directory response signature. */
export const WEB_BOT_AUTH_TAG = 'web-bot-auth';
export const DIRECTORY_SIGNATURE_TAG = 'http-message-signatures-directory';

/** The directory options with every default filled in. */
export interface ResolvedDirectoryOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxKeys: number;
  readonly minCacheSeconds: number;
  readonly maxCacheSeconds: number;
  readonly defaultCacheSeconds: number;
  readonly staleSeconds: number;
  readonly failureBackoffSeconds: number;
  readonly refetchUnknownKeySeconds: number;
  readonly maxEntries: number;
  readonly maxConcurrentFetches: number;
  readonly maxNewAgentsPerMinute: number;
  readonly signatures: 'require' | 'verify-if-present';
  readonly ca: readonly (string | Buffer)[];
  readonly allowLoopback: boolean;
}

export const DIRECTORY_DEFAULTS: Omit<ResolvedDirectoryOptions, 'ca'> = {
  timeoutMs: 3000,
  maxBytes: 65_536,
  maxKeys: 16,
  minCacheSeconds: 60,
  maxCacheSeconds: 86_400,
  defaultCacheSeconds: 300,
  staleSeconds: 3600,
  failureBackoffSeconds: 10,
  refetchUnknownKeySeconds: 30,
  maxEntries: 1000,
  maxConcurrentFetches: 8,
  maxNewAgentsPerMinute: 30,
  signatures: 'verify-if-present',
  allowLoopback: false,
};
