import {
  DynamicModule,
  Inject,
  Module,
  OnApplicationBootstrap,
  OnModuleDestroy,
  Optional,
  Provider,
  Type,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, HttpAdapterHost } from '@nestjs/core';
import { PassportRegistry } from './guards/passport-registry';
import { AuthAudit } from './audit/auth-audit';
import { AdminController } from './admin/admin.controller';
import { CertificateAdminController } from './certificate-strategy/certificate-admin.controller';
import { CertificateRegistry } from './certificate-strategy/certificate-registry';
import { ClientCertificateAuthenticator } from './certificate-strategy/client-certificate.authenticator';
import { KeyAdminService } from './admin/key-admin.service';
import { SelfServiceKeysController } from './admin/self-service-keys.controller';
import { RolesGuard } from './context/roles.guard';
import { KeypairAuthGuard } from './guards/keypair-auth.guard';
import { KeypairAuthHealth } from './health/keypair-auth-health';
import { IDEMPOTENCY_STORE } from './idempotency/idempotency-store.interface';
import { AsymmetricJwtAuthenticator } from './jwt/asymmetric-jwt.authenticator';
import { KeyRegistry } from './keys/key-registry';
import { KEYPAIR_AUTH_OPTIONS } from './keypair-auth.constants';
import type { KeypairAuthModuleExtras } from './keypair-auth-options.interface';
import { JwksController } from './response-signing/jwks.controller';
import { WebBotAuthDirectoryController } from './web-bot-auth/web-bot-auth-directory.controller';
import { RESPONSE_SIGNER, SERVER_KEYRING } from './response-signing/response-signing.constants';
import { SignResponseInterceptor } from './response-signing/sign-response.interceptor';
import { HttpSignatureAuthenticator } from './signature-strategy/http-signature.authenticator';
import { KEYPAIR_AUTH_PASSPORT } from './keypair-auth.internal-constants';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  KEYPAIR_AUTH_MODULE_OPTIONS,
  KeypairAuthModuleAsyncOptions,
  OPTIONS_TYPE,
  refuseMisplacedAsyncOptions,
  refuseNonObjectOptions,
  refuseStructuralOptions,
} from './keypair-auth.module-definition';
import { keypairAuthProviders } from './keypair-auth.providers';
import { MemoryReplayStore } from './stores/memory-replay.store';
import { REPLAY_STORE, ReplayStore } from './stores/replay-store.interface';
import { TokenAdminController } from './tokens/token-admin.controller';
import { TokenController } from './tokens/token.controller';
import { TokenService } from './tokens/token.service';
import { AuthThrottle } from './throttle/auth-throttle';
import { THROTTLE_STORE } from './throttle/throttle-store.interface';

const EXPORTS = [
  KeypairAuthGuard,
  RolesGuard,
  KeyRegistry,
  KeyAdminService,
  REPLAY_STORE,
  KEYPAIR_AUTH_OPTIONS,
  KEYPAIR_AUTH_PASSPORT,
  AsymmetricJwtAuthenticator,
  HttpSignatureAuthenticator,
  KeypairAuthHealth,
  RESPONSE_SIGNER,
  CertificateRegistry,
  ClientCertificateAuthenticator,
  IDEMPOTENCY_STORE,
  SERVER_KEYRING,
  TokenService,
  AuthAudit,
  AuthThrottle,
  THROTTLE_STORE,
];

/**
 * Public-key authentication for Nest apps.
 *
 *     KeypairAuthModule.forRoot({ clockSkewSeconds: 20 })               // options
 *     KeypairAuthModule.forRoot({ adminApi: true, globalGuard: true }) // plus structural extras
 *     KeypairAuthModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ ... }), adminApi: true })
 */
@Module({})
export class KeypairAuthModule
  extends ConfigurableModuleClass
  implements OnApplicationBootstrap, OnModuleDestroy
{
  constructor(
    private readonly registry: KeyRegistry,
    @Inject(REPLAY_STORE) private readonly replayStore: ReplayStore,
    @Inject(KEYPAIR_AUTH_PASSPORT) private readonly strategies: PassportRegistry,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    super();
  }

  /** The app's HTTP server is this instance's, for `AuthGuard('keypair-…')` (see PassportRegistry). */
  onApplicationBootstrap(): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as object | undefined;
    if (server) this.strategies.serve(server);
  }

  static forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return withParts(super.forRoot(options), options);
  }

  static forRootAsync(options: KeypairAuthModuleAsyncOptions): DynamicModule {
    refuseMisplacedAsyncOptions(options);
    // The factory's narrower return type is the only difference from ASYNC_OPTIONS_TYPE.
    const definition = super.forRootAsync(options as typeof ASYNC_OPTIONS_TYPE);
    return withParts(refusingStructuralOptions(definition), options);
  }

  /** Flushes batched `lastUsedAt` writes and stops timers. */
  async onModuleDestroy(): Promise<void> {
    this.strategies.close();
    await this.registry.close();
    if (this.replayStore instanceof MemoryReplayStore) this.replayStore.close();
  }
}

/**
 * Wraps the options factory (useFactory, useClass or useExisting) so it refuses what is not an
 * options object, and structural options.
 */
function refusingStructuralOptions(definition: DynamicModule): DynamicModule {
  const providers = definition.providers?.map((provider): Provider => {
    if (!('provide' in provider) || provider.provide !== KEYPAIR_AUTH_MODULE_OPTIONS) return provider;
    if (!('useFactory' in provider)) return provider;
    const factory = provider.useFactory as (...args: unknown[]) => unknown;
    return {
      ...provider,
      useFactory: async (...args: unknown[]) => {
        const options = await factory(...args);
        refuseNonObjectOptions(options);
        refuseStructuralOptions(options);
        return options;
      },
    };
  });
  return { ...definition, providers };
}

function withParts(definition: DynamicModule, extras: KeypairAuthModuleExtras): DynamicModule {
  const providers: Provider[] = [
    ...(definition.providers ?? []),
    ...keypairAuthProviders,
    KeypairAuthGuard,
    RolesGuard,
    KeyAdminService,
    KeypairAuthHealth,
  ];
  if (extras.globalGuard) providers.push({ provide: APP_GUARD, useExisting: KeypairAuthGuard });
  if (extras.signAllResponses)
    providers.push({ provide: APP_INTERCEPTOR, useClass: SignResponseInterceptor });
  const controllers: Type[] = [];
  if (extras.adminApi)
    controllers.push(AdminController, SelfServiceKeysController, CertificateAdminController);
  if (extras.jwksEndpoint) controllers.push(JwksController);
  if (extras.webBotAuthDirectory) controllers.push(WebBotAuthDirectoryController);
  if (extras.tokenApi) controllers.push(TokenController);
  if (extras.tokenApi && extras.adminApi) controllers.push(TokenAdminController);
  return {
    ...definition,
    providers,
    controllers,
    exports: [...(definition.exports ?? []), ...EXPORTS],
  };
}
