import type { DataSource } from 'typeorm';
import type { ResponseSigningOptions } from '../response-signing/response-signer';
import type { DigestAlgorithm } from '../http-signatures';
import type { HmacKey } from '../signature-strategy/http-signature.authenticator';
import type { SignaturePolicy } from '../signature-strategy/signature-policy';
import type { AuthUserDirectory } from '../keys/user-directory.interface';
import type { StrategyName } from '../keypair-auth-options.interface';
import type { ReplayStore } from '../stores/replay-store.interface';

/** Options after validation, with every default filled in once. */
export interface ResolvedKeypairAuthOptions {
  strategies: ReadonlySet<StrategyName>;
  clockSkewMs: number;
  jwt: {
    maxLifetimeMs: number;
    audience: readonly string[] | null;
    requireRequestBinding: boolean;
    maxKeysPerUsernameLookup: number;
  };
  /** Configured `scheme://authority`, or null to take it from the connection and Host header. */
  origin: string | null;
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
  allowInMemoryStoresInProduction: boolean;
  keyCache: { max: number; ttlMs: number; negativeTtlMs: number };
  lastUsedFlushIntervalMs: number;
}
