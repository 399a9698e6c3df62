import type { DataSource } from 'typeorm';
import type { ResolvedClientCertificateOptions } from '../certificate-strategy/client-certificate-options';
import type { ResponseSigningOptions } from '../response-signing/response-signer';
import type { DigestAlgorithm } from '../http-signatures';
import type { HmacKey } from '../signature-strategy/http-signature.authenticator';
import type { SignaturePolicy } from '../signature-strategy/signature-policy';
import type { CacheInvalidationBus } from '../keys/cache-invalidation.interface';
import type { AuthUserDirectory } from '../keys/user-directory.interface';
import type { StrategyName } from '../keypair-auth-options.interface';
import type { ReplayStore } from '../stores/replay-store.interface';
import type { ResolvedTokenOptions } from '../tokens/token-options';
import type { ResolvedIdempotencyOptions } from '../idempotency/idempotency-options';
import type { AuditLogMode, AuthEventHandler } from '../audit/auth-event';
import type { ResolvedThrottleOptions } from '../throttle/throttle-options';
import type { ResolvedWebBotAuthOptions } from '../web-bot-auth/validate-web-bot-auth-options';

/** Options after validation, with every default filled in once. */
export interface ResolvedKeypairAuthOptions {
  strategies: ReadonlySet<StrategyName>;
  clockSkewMs: number;
  jwt: {
    maxLifetimeMs: number;
    audience: readonly string[] | null;
    requireRequestBinding: boolean;
    maxKeysPerUsernameLookup: number;
    allowPssOnRsaKeys: boolean;
  };
  /** Configured `scheme://authority`, or null to take it from the connection and Host header. */
  origin: string | null;
  /** Start under NODE_ENV=production without `origin` (the Host header decides the authority). */
  allowHostHeaderAuthority: boolean;
  httpSignature: {
    policy: SignaturePolicy;
    maxBodyBytes: number;
    digestAlgorithms: readonly DigestAlgorithm[];
    hmacKeys: ReadonlyMap<string, HmacKey>;
  };
  responseSigning?: ResponseSigningOptions;
  dataSource?: DataSource;
  users?: AuthUserDirectory;
  replayStore?: ReplayStore;
  cacheInvalidation?: CacheInvalidationBus;
  allowInMemoryStoresInProduction: boolean;
  keyCache: {
    max: number;
    ttlMs: number;
    negativeTtlMs: number;
    negativeMax: number;
  };
  lastUsedFlushIntervalMs: number;
  /** null when clientCertificate is not configured. */
  clientCertificate: ResolvedClientCertificateOptions | null;
  idempotency: ResolvedIdempotencyOptions;
  /** null when tokens is not configured. */
  tokens: ResolvedTokenOptions | null;
  /** null when throttling is off (no `throttle` block). */
  throttle: ResolvedThrottleOptions | null;
  auditLog: AuditLogMode;
  onAuthEvent?: AuthEventHandler;
  /** null when webBotAuth is not configured. */
  webBotAuth: ResolvedWebBotAuthOptions | null;
}
