import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptionsFromUrl, KeypairAuthModule, KeypairAuthModuleOptions } from '../src';
import { createRedisClient, RedisCacheInvalidationBus, RedisClient, RedisReplayStore } from '../src/redis';
import { DemoController } from './demo.controller';
import { DemoGraphqlModule } from './graphql/demo-graphql.module';
import { demoIdempotencyOptions, TransfersModule, withTransferTables } from './transfers';
import { DemoGateway } from './ws/demo.gateway';
import type { WebBotAuthOptions } from '../src';

export interface DemoConfig {
  /** `sqlite:PATH` or `postgres://…` (default: SQLite in ./data). */
  databaseUrl?: string;
  /** `redis://…`: nonces shared by every instance, and cache invalidation across them. */
  redisUrl?: string;
  /** The public `scheme://authority` clients sign for, when instances sit behind one address. */
  origin?: string;
  /** The server keyring's key: signs access tokens and `@SignResponse()` answers, published at /.well-known/jwks.json. */
  serverKey: { keyId: string; privateKey: string };
  /** The HTTP adapter: GraphQL runs on Apollo with Express (default), on Mercurius with Fastify. */
  adapter?: 'express' | 'fastify';
  /** Web Bot Auth agents (WEB_BOT_AUTH_AGENTS): verified on every route, as the `crawler` account. */
  webBotAuth?: WebBotAuthOptions;
}

const DEMO_REDIS = Symbol('DEMO_REDIS');

/**
 * The demo app: the library as a team would wire it, with every part the docs show.
 * TypeORM holds the key tables (migrated at start), the guard protects every route
 * unless @Public(), and the app mounts the admin API and self-service keys
 * (`/admin/*`, `/keys`), the token API (`/auth/*`, access and refresh tokens, DPoP),
 * the JWKS (`/.well-known/jwks.json`) and signs the demo routes' responses with the
 * server key. GraphQL at /graphql (`whoami`, `adminEcho`) sits behind the same guard.
 * With REDIS_URL, several demo processes behave as one.
 */
@Module({})
export class DemoAppModule implements OnApplicationShutdown {
  constructor(@Inject(DEMO_REDIS) private readonly redis: RedisClient | null) {}

  static forRoot(config: DemoConfig): DynamicModule {
    const redis = config.redisUrl ? createRedisClient(config.redisUrl) : null;
    const shared: KeypairAuthModuleOptions = redis
      ? { replayStore: new RedisReplayStore(redis), cacheInvalidation: new RedisCacheInvalidationBus(redis) }
      : {};
    return {
      module: DemoAppModule,
      imports: [
        TypeOrmModule.forRoot(
          withTransferTables({ ...dataSourceOptionsFromUrl(config.databaseUrl), migrationsRun: true }),
        ),
        KeypairAuthModule.forRoot({
          ...shared,
          idempotency: demoIdempotencyOptions(),
          origin: config.origin,
          responseSigning: { keys: [config.serverKey] },
          tokens: {},
          ...(config.webBotAuth ? { webBotAuth: config.webBotAuth } : {}),
          adminApi: true,
          tokenApi: true,
          jwksEndpoint: true,
          globalGuard: true,
        }),
        TransfersModule.forRoot(),
        DemoGraphqlModule.forRoot(config.adapter ?? 'express'),
      ],
      controllers: [DemoController],
      providers: [
        { provide: DEMO_REDIS, useValue: redis },
        // `/ws` answers `whoami`; createDemoApp() sets KeypairAuthWsAdapter, which authenticates its handshake.
        DemoGateway,
      ],
    };
  }

  onApplicationShutdown(): void {
    this.redis?.disconnect();
  }
}
