import type { DataSource } from 'typeorm';
import type { ClientCertificateOptions } from './certificate-strategy/client-certificate-options';
import type { CacheInvalidationBus } from './keys/cache-invalidation.interface';
import type { AuthUserDirectory } from './keys/user-directory.interface';
import type { ResponseSigningOptions } from './response-signing/response-signer';
import type { ReplayStore } from './stores/replay-store.interface';
import type { TokenOptions } from './tokens/token-options';
import type { IdempotencyOptions } from './idempotency/idempotency-options';
import type { AuditLogMode, AuthEventHandler } from './audit/auth-event';
import type { ThrottleOptions } from './throttle/throttle-options';
import type { WebBotAuthOptions } from './web-bot-auth/web-bot-auth-options';

/** Strategy names accepted in `strategies`. Each later strategy adds its name here. */
export const STRATEGY_NAMES = [
  'jwt',
  'http-signature',
  'client-certificate',
  'access-token',
  'web-bot-auth',
] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface JwtStrategyOptions {
  /** Longest accepted `exp - iat` for standard-claim tokens, in seconds (default 300, at most 3600). */
  maxLifetimeSeconds?: number;
  /** Accepted `aud` value(s). When set, tokens must carry a matching `aud`. */
  audience?: string | string[];
  /** Require `htm` and `htu` claims bound to the request (default false: checked when present). */
  requireRequestBinding?: boolean;
  /** Most keys tried for a token that names a user but no `kid` (default 10). */
  maxKeysPerUsernameLookup?: number;
  /**
   * Let an RSA key registered without an algorithm also accept PS256/PS384/PS512 tokens
   * (default false: RS256/RS384/RS512 only). Keys registered with an algorithm stay pinned.
   */
  allowPssOnRsaKeys?: boolean;
}

export interface HttpSignatureOptions {
  /** Components every signature must cover beyond the built-in minimum (method, authority, path+query, time, digest). */
  requiredComponents?: string[];
  /** Require an RFC 9421 `nonce` parameter (default false: the signature itself is single-use). */
  requireNonce?: boolean;
  /** Oldest accepted `created` or Date, in seconds (default 300, at most 3600). */
  maxAgeSeconds?: number;
  /** RFC 9421: which signature to check when several are present. */
  label?: string;
  tag?: string;
  /** Largest body whose digest is checked, in bytes (default 1 MiB; larger is 413). */
  maxBodyBytes?: number;
  /** Accepted digest algorithms (default both of sha-256 and sha-512). */
  digestAlgorithms?: ('sha-256' | 'sha-512')[];
  /** RFC 9421 `hmac-sha256` shared secrets by keyid, each mapped to an account. */
  hmacKeys?: Record<string, { secret: string | Buffer; username: string; roles?: string[] }>;
}

export interface KeyCacheOptions {
  /** Most keys held in the in-process cache (default 10,000). */
  max?: number;
  /** How long a cached key or user is trusted before it is read again, in seconds (default 60). */
  ttlSeconds?: number;
  /** How long an unknown key id is remembered as unknown, in seconds (default 5). */
  negativeTtlSeconds?: number;
  /** Most unknown ids remembered, in a cache of their own so they never evict known keys (default 10,000). */
  negativeMax?: number;
}

export interface KeypairAuthModuleOptions {
  /** Which strategies the guard may use (default: 'jwt' and 'http-signature', plus 'client-certificate' when clientCertificate is set, 'access-token' when tokens is set and 'web-bot-auth' when webBotAuth is set). */
  strategies?: StrategyName[];
  /** Allowed clock difference in seconds, 0..300 (default 20: the asymmetric_jwt_auth window). */
  clockSkewSeconds?: number;
  jwt?: JwtStrategyOptions;
  httpSignature?: HttpSignatureOptions;
  /** The server's own signing keys, for signed responses (@SignResponse()) and /.well-known/jwks.json. */
  responseSigning?: ResponseSigningOptions;
  /**
   * The public scheme and authority of this API (for example `https://api.example.com`),
   * used to check request-bound credentials (`htu`, `@authority`). Set it when behind a
   * proxy: X-Forwarded-* headers are never trusted. Default: the TLS state of the
   * connection and the Host header.
   */
  origin?: string;
  /**
   * Start under NODE_ENV=production without `origin` (default false: startup fails). The
   * authority of request-bound credentials then comes from the Host header the client sent.
   */
  allowHostHeaderAuthority?: boolean;
  /** TypeORM DataSource holding the key tables. Defaults to the app's default TypeORM DataSource. */
  dataSource?: DataSource;
  /** Where accounts come from. Defaults to the library's `User` entity on the DataSource. */
  users?: AuthUserDirectory;
  /** Nonce store. Defaults to an in-memory store (one process only). */
  replayStore?: ReplayStore;
  /**
   * Tells other instances to drop cached keys and accounts on revocation or change
   * (e.g. `RedisCacheInvalidationBus` from `nestjs-keypair-auth/redis`). Without it,
   * other instances see a change after `keyCache.ttlSeconds`.
   */
  cacheInvalidation?: CacheInvalidationBus;
  /** Allow the in-memory replay store when NODE_ENV=production (default false: startup fails). */
  allowInMemoryStoresInProduction?: boolean;
  keyCache?: KeyCacheOptions;
  /** How often `lastUsedAt` is written, in milliseconds (default 5000). */
  lastUsedFlushIntervalMs?: number;
  /** Client certificates, forwarded by a trusted proxy or from this app's TLS server; enables 'client-certificate'. */
  clientCertificate?: ClientCertificateOptions;
  /** Idempotency-Key handling for @Idempotent() routes: store, retention, lock TTL, limits. */
  idempotency?: IdempotencyOptions;
  /** Access and refresh tokens after one key proof (docs/tokens.md); enables 'access-token'. Needs responseSigning.keys. */
  tokens?: TokenOptions;
  /**
   * Refuse with 429 (AUTH_THROTTLED) an address or a claimed key id after `maxFailures`
   * failed authentications in `windowSeconds`. Off unless set; `throttle: {}` for 20 per 60 s.
   */
  throttle?: ThrottleOptions;
  /**
   * Verify Web Bot Auth agents (docs/web-bot-auth.md): requests signed by crawlers and AI
   * agents with keys from their own directories, for the allowlisted agent origins, each
   * mapped to an account; enables 'web-bot-auth'.
   */
  webBotAuth?: WebBotAuthOptions;
  /** Which authentication decisions the `KeypairAuth` logger writes as JSON lines (default 'failures'). */
  auditLog?: AuditLogMode;
  /** Called with every authentication decision (success and failure), to forward them (SIEM, metrics). */
  onAuthEvent?: AuthEventHandler;
}

/** Structural options of forRoot / forRootAsync, known before any provider runs. */
export interface KeypairAuthModuleExtras {
  /** Make the module's providers (guards, registry) visible app-wide (default true). */
  isGlobal?: boolean;
  /** Mount the admin API (`/admin/...`) and the self-service key API (`/keys`) (default false). */
  adminApi?: boolean;
  /** Register KeypairAuthGuard for every route of the app; opt out with @Public() (default false). */
  globalGuard?: boolean;
  /** Serve the server's public keys at /.well-known/jwks.json (default false). */
  jwksEndpoint?: boolean;
  /**
   * Serve the server keyring's public keys as a signed Web Bot Auth key directory at
   * /.well-known/http-message-signatures-directory (default false). Needs responseSigning.keys and origin.
   */
  webBotAuthDirectory?: boolean;
  /** Sign every response (an interceptor on every route: it costs throughput) instead of only @SignResponse() routes (default false). */
  signAllResponses?: boolean;
  /** Mount the token endpoints (`/auth/challenge`, `/auth/token`, `/auth/refresh`, `/auth/revoke`), and with adminApi `/admin/users/:username/revoke-tokens` (default false). */
  tokenApi?: boolean;
}
