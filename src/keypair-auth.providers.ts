import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuthAudit } from './audit/auth-audit';
import { ClientCertificateAuthenticator } from './certificate-strategy/client-certificate.authenticator';
import { clientCertificateProviders } from './certificate-strategy/client-certificate.providers';
import {
  ClientCertificateStrategy,
  clientCertificateEntry,
} from './certificate-strategy/client-certificate.strategy';
import { KeypairAuthConfigurationError as ConfigError } from './errors/configuration.error';
import { PassportRegistry } from './guards/passport-registry';
import { idempotencyProviders } from './idempotency/idempotency.providers';
import { AsymmetricJwtAuthenticator } from './jwt/asymmetric-jwt.authenticator';
import { AsymmetricJwtStrategy, asymmetricJwtEntry } from './jwt/asymmetric-jwt.strategy';
import { KeyRegistry } from './keys/key-registry';
import { RESPONSE_SIGNER, SERVER_KEYRING } from './response-signing/response-signing.constants';
import { ResponseSigner } from './response-signing/response-signer';
import { ServerKeyring } from './response-signing/server-keyring';
import { HttpSignatureAuthenticator } from './signature-strategy/http-signature.authenticator';
import { HttpSignatureStrategy, httpSignatureEntry } from './signature-strategy/http-signature.strategy';
import { TypeOrmUserDirectory } from './keys/typeorm-user-directory';
import { KEYPAIR_AUTH_OPTIONS } from './keypair-auth.constants';
import { KEYPAIR_AUTH_DATA_SOURCE, KEYPAIR_AUTH_PASSPORT } from './keypair-auth.internal-constants';
import { KEYPAIR_AUTH_MODULE_OPTIONS } from './keypair-auth.module-definition';
import type { KeypairAuthModuleOptions } from './keypair-auth-options.interface';
import { ResolvedKeypairAuthOptions } from './options/resolved-options';
import { checkOriginInProduction, validateOptions } from './options/validate-options';
import { MemoryReplayStore } from './stores/memory-replay.store';
import { REPLAY_STORE, ReplayStore } from './stores/replay-store.interface';
import { AccessTokenAuthenticator } from './tokens/access-token.authenticator';
import { AccessTokenStrategy, accessTokenEntry } from './tokens/access-token.strategy';
import { tokenProviders } from './tokens/token.providers';
import { AuthThrottle } from './throttle/auth-throttle';
import { MemoryThrottleStore } from './throttle/memory-throttle.store';
import { THROTTLE_STORE, ThrottleStore } from './throttle/throttle-store.interface';
import { WebBotAuthAuthenticator } from './web-bot-auth/web-bot-auth.authenticator';
import { webBotAuthEntry, WebBotAuthStrategy } from './web-bot-auth/web-bot-auth.strategy';
import { webBotAuthProviders } from './web-bot-auth/web-bot-auth.providers';

/** Providers of KeypairAuthModule: plain classes built by factories, no request scope anywhere. */
export const keypairAuthProviders: Provider[] = [
  {
    provide: KEYPAIR_AUTH_OPTIONS,
    useFactory: (raw: KeypairAuthModuleOptions) => {
      const options = validateOptions(raw);
      checkOriginInProduction(options);
      return options;
    },
    inject: [KEYPAIR_AUTH_MODULE_OPTIONS],
  },
  {
    provide: KEYPAIR_AUTH_DATA_SOURCE,
    useFactory: (options: ResolvedKeypairAuthOptions, appDataSource?: DataSource) => {
      const dataSource = options.dataSource ?? appDataSource;
      if (!dataSource) {
        throw ConfigError.create(
          'no TypeORM DataSource found for the key tables.',
          'Import TypeOrmModule.forRoot({ ..., entities: [...KEYPAIR_AUTH_ENTITIES], migrations: KEYPAIR_AUTH_MIGRATIONS }) ' +
            'in your AppModule, or pass `dataSource` to KeypairAuthModule.forRoot().',
        );
      }
      return dataSource;
    },
    inject: [KEYPAIR_AUTH_OPTIONS, { token: DataSource, optional: true }],
  },
  {
    provide: KeyRegistry,
    useFactory: async (options: ResolvedKeypairAuthOptions, dataSource: DataSource) => {
      const registry = new KeyRegistry(dataSource, options.users ?? new TypeOrmUserDirectory(dataSource), {
        cacheMax: options.keyCache.max,
        cacheTtlMs: options.keyCache.ttlMs,
        negativeTtlMs: options.keyCache.negativeTtlMs,
        negativeMax: options.keyCache.negativeMax,
        lastUsedFlushIntervalMs: options.lastUsedFlushIntervalMs,
        invalidationBus: options.cacheInvalidation,
        reservedKeyIds: new Set(options.httpSignature.hmacKeys.keys()),
      });
      await registry.listen();
      return registry;
    },
    inject: [KEYPAIR_AUTH_OPTIONS, KEYPAIR_AUTH_DATA_SOURCE],
  },
  {
    provide: REPLAY_STORE,
    useFactory: (options: ResolvedKeypairAuthOptions): ReplayStore => {
      if (options.replayStore) return options.replayStore;
      if (process.env.NODE_ENV === 'production' && !options.allowInMemoryStoresInProduction) {
        throw ConfigError.create(
          'NODE_ENV=production but no replayStore is configured, so nonces would live in this process only ' +
            'and a credential used on one instance could be replayed on another.',
          'Pass replayStore (a TypeOrmReplayStore, or the Redis store), or set allowInMemoryStoresInProduction: true ' +
            'if this really is a single instance.',
        );
      }
      return new MemoryReplayStore();
    },
    inject: [KEYPAIR_AUTH_OPTIONS],
  },
  {
    provide: AsymmetricJwtAuthenticator,
    useFactory: (options: ResolvedKeypairAuthOptions, registry: KeyRegistry, replayStore: ReplayStore) =>
      new AsymmetricJwtAuthenticator(registry, replayStore, {
        clockSkewMs: options.clockSkewMs,
        ...options.jwt,
      }),
    inject: [KEYPAIR_AUTH_OPTIONS, KeyRegistry, REPLAY_STORE],
  },
  {
    // The server's own keys: they sign responses and access tokens, and /.well-known/jwks.json publishes them.
    provide: SERVER_KEYRING,
    useFactory: (options: ResolvedKeypairAuthOptions) =>
      options.responseSigning ? new ServerKeyring(options.responseSigning.keys) : null,
    inject: [KEYPAIR_AUTH_OPTIONS],
  },
  {
    provide: RESPONSE_SIGNER,
    useFactory: (options: ResolvedKeypairAuthOptions, keyring: ServerKeyring | null) =>
      options.responseSigning && keyring ? new ResponseSigner(options.responseSigning, keyring) : null,
    inject: [KEYPAIR_AUTH_OPTIONS, SERVER_KEYRING],
  },
  {
    provide: HttpSignatureAuthenticator,
    useFactory: (options: ResolvedKeypairAuthOptions, registry: KeyRegistry, replayStore: ReplayStore) =>
      new HttpSignatureAuthenticator(registry, replayStore, {
        clockSkewMs: options.clockSkewMs,
        maxBodyBytes: options.httpSignature.maxBodyBytes,
        digestAlgorithms: options.httpSignature.digestAlgorithms,
        hmacKeys: options.httpSignature.hmacKeys,
      }),
    inject: [KEYPAIR_AUTH_OPTIONS, KeyRegistry, REPLAY_STORE],
  },
  {
    provide: KEYPAIR_AUTH_PASSPORT,
    useFactory: (
      options: ResolvedKeypairAuthOptions,
      jwt: AsymmetricJwtAuthenticator,
      sig: HttpSignatureAuthenticator,
      cert: ClientCertificateAuthenticator | null,
      accessTokens: AccessTokenAuthenticator | null,
      webBotAuth: WebBotAuthAuthenticator | null,
    ) => {
      // Order matters: a signed request may also carry a Bearer token it covers, and
      // a request that carries certificate headers is decided by the certificate rules.
      const registry = new PassportRegistry();
      if (cert) registry.use(clientCertificateEntry(cert), new ClientCertificateStrategy(cert));
      // Before RFC 9421: a Web Bot Auth request is an RFC 9421 request whose key is in its agent's directory.
      if (webBotAuth) registry.use(webBotAuthEntry, new WebBotAuthStrategy(webBotAuth, options.origin));
      if (options.strategies.has('http-signature')) {
        registry.use(
          httpSignatureEntry,
          new HttpSignatureStrategy(sig, options.origin, options.httpSignature.policy),
        );
      }
      // Before the client-JWT entry: it claims only Bearer tokens typed at+jwt (or naming a server key).
      if (accessTokens) {
        registry.use(accessTokenEntry(accessTokens), new AccessTokenStrategy(accessTokens, options.origin));
      }
      if (options.strategies.has('jwt')) {
        registry.use(asymmetricJwtEntry, new AsymmetricJwtStrategy(jwt, options.origin));
      }
      return registry;
    },
    inject: [
      KEYPAIR_AUTH_OPTIONS,
      AsymmetricJwtAuthenticator,
      HttpSignatureAuthenticator,
      ClientCertificateAuthenticator,
      AccessTokenAuthenticator,
      WebBotAuthAuthenticator,
    ],
  },
  {
    // Hardening: one audit event per decision; failure throttling when `throttle` is set.
    provide: AuthAudit,
    useFactory: (options: ResolvedKeypairAuthOptions) => new AuthAudit(options.auditLog, options.onAuthEvent),
    inject: [KEYPAIR_AUTH_OPTIONS],
  },
  {
    provide: THROTTLE_STORE,
    useFactory: (options: ResolvedKeypairAuthOptions): ThrottleStore | null =>
      options.throttle ? (options.throttle.store ?? new MemoryThrottleStore()) : null,
    inject: [KEYPAIR_AUTH_OPTIONS],
  },
  {
    provide: AuthThrottle,
    useFactory: (options: ResolvedKeypairAuthOptions, store: ThrottleStore | null) =>
      options.throttle && store ? new AuthThrottle(options.throttle, store) : null,
    inject: [KEYPAIR_AUTH_OPTIONS, THROTTLE_STORE],
  },
  ...clientCertificateProviders,
  ...tokenProviders,
  ...webBotAuthProviders,
  ...idempotencyProviders,
];
