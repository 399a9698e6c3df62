import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CertificateRegistry } from '../certificate-strategy/certificate-registry';
import { KeyRegistry } from '../keys/key-registry';
import { KEYPAIR_AUTH_OPTIONS } from '../keypair-auth.constants';
import { KEYPAIR_AUTH_DATA_SOURCE } from '../keypair-auth.internal-constants';
import type { ResolvedKeypairAuthOptions } from '../options/resolved-options';
import { SERVER_KEYRING } from '../response-signing/response-signing.constants';
import type { ServerKeyring } from '../response-signing/server-keyring';
import { REPLAY_STORE, ReplayStore } from '../stores/replay-store.interface';
import { AccessTokenAuthenticator } from './access-token.authenticator';
import { ChallengeIssuer } from './challenge';
import { DpopVerifier } from './dpop.verifier';
import { RefreshTokenStore } from './refresh-token.store';
import { TokenGenerations } from './token-generations';
import { TokenService } from './token.service';

/**
 * Providers of the token room. Each is null when `tokens` is not configured; the
 * access-token authenticator also when 'access-token' is left out of `strategies`
 * (a server that issues tokens for other services without accepting them itself).
 */
export const tokenProviders: Provider[] = [
  {
    provide: TokenGenerations,
    useFactory: (options: ResolvedKeypairAuthOptions, dataSource: DataSource, registry: KeyRegistry) => {
      if (!options.tokens) return null;
      const generations = new TokenGenerations(dataSource, {
        cacheMax: options.keyCache.max,
        cacheTtlMs: options.keyCache.ttlMs,
      });
      // An account change on any instance (e.g. revoke-tokens) drops the cached generation here too.
      registry.onInvalidation((event) => {
        if (event.kind === 'user') generations.forget(event.userId);
      });
      return generations;
    },
    inject: [KEYPAIR_AUTH_OPTIONS, KEYPAIR_AUTH_DATA_SOURCE, KeyRegistry],
  },
  {
    provide: DpopVerifier,
    useFactory: (options: ResolvedKeypairAuthOptions, replayStore: ReplayStore) =>
      options.tokens
        ? new DpopVerifier(replayStore, {
            maxAgeMs: options.tokens.dpop.maxAgeMs,
            clockSkewMs: options.clockSkewMs,
          })
        : null,
    inject: [KEYPAIR_AUTH_OPTIONS, REPLAY_STORE],
  },
  {
    provide: AccessTokenAuthenticator,
    useFactory: (
      options: ResolvedKeypairAuthOptions,
      keyring: ServerKeyring | null,
      registry: KeyRegistry,
      certificates: CertificateRegistry | null,
      generations: TokenGenerations | null,
      dpop: DpopVerifier | null,
    ) =>
      options.tokens && keyring && generations && dpop && options.strategies.has('access-token')
        ? new AccessTokenAuthenticator(keyring, registry, certificates ?? null, generations, dpop, {
            clockSkewMs: options.clockSkewMs,
            issuer: options.tokens.issuer,
            audience: options.tokens.audience,
          })
        : null,
    inject: [
      KEYPAIR_AUTH_OPTIONS,
      SERVER_KEYRING,
      KeyRegistry,
      { token: CertificateRegistry, optional: true },
      TokenGenerations,
      DpopVerifier,
    ],
  },
  {
    provide: TokenService,
    useFactory: (
      options: ResolvedKeypairAuthOptions,
      dataSource: DataSource,
      keyring: ServerKeyring | null,
      registry: KeyRegistry,
      generations: TokenGenerations | null,
      dpop: DpopVerifier | null,
      replayStore: ReplayStore,
    ) =>
      options.tokens && keyring && generations && dpop
        ? new TokenService(
            keyring,
            registry,
            generations,
            new RefreshTokenStore(dataSource, options.tokens.refreshTokenTtlMs),
            new ChallengeIssuer(keyring, options.tokens.challengeTtlMs),
            dpop,
            replayStore,
            { ...options.tokens, clockSkewMs: options.clockSkewMs },
          )
        : null,
    inject: [
      KEYPAIR_AUTH_OPTIONS,
      KEYPAIR_AUTH_DATA_SOURCE,
      SERVER_KEYRING,
      KeyRegistry,
      TokenGenerations,
      DpopVerifier,
      REPLAY_STORE,
    ],
  },
];
