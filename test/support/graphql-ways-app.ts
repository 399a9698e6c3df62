import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { Body, Controller, HttpCode, INestApplication, Post } from '@nestjs/common';
import { Args, Field, GraphQLModule, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  AuthUser,
  CurrentSecurityContext,
  dataSourceOptionsFromUrl,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  KeyRegistry,
  SecurityContext,
} from '../../src';
import { CapturingLogger } from './test-app';

/** Apollo Server on Express, or Mercurius on Fastify: the two GraphQL stacks Nest ships drivers for. */
export type GraphqlDriverName = 'apollo' | 'mercurius';
export const GRAPHQL_DRIVERS: GraphqlDriverName[] = ['apollo', 'mercurius'];

@ObjectType()
class WhoAmI {
  @Field() username!: string;
  @Field() keyId!: string;
  @Field() method!: string;
  @Field(() => [String]) roles!: string[];
}

@ObjectType()
class Echo {
  @Field() text!: string;
  @Field() username!: string;
  @Field() method!: string;
}

/** A query and a mutation, each reading the SecurityContext the global guard put on the request. */
@Resolver()
class WaysInResolver {
  @Query(() => WhoAmI)
  whoami(@CurrentSecurityContext() ctx: SecurityContext): WhoAmI {
    return { ...ctx.toJSON(), roles: [...ctx.roles] };
  }

  @Mutation(() => Echo)
  echo(@Args('text') text: string, @CurrentSecurityContext() ctx: SecurityContext): Echo {
    return { text, username: ctx.username, method: ctx.method };
  }
}

/** The REST twin of the mutation, to compare a refusal's code over GraphQL with the one REST gives. */
@Controller('rest')
class WaysInRestController {
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: unknown, @CurrentSecurityContext() ctx: SecurityContext): unknown {
    return { body, username: ctx.username, method: ctx.method };
  }
}

export interface GraphqlWaysApp {
  app: INestApplication;
  /** Base URL of the listening app; the GraphQL endpoint is `${server}/graphql`. */
  server: string;
  registry: KeyRegistry;
  logs: CapturingLogger;
  addUser(username: string, roles: string[]): Promise<AuthUser>;
  close(): Promise<void>;
}

export interface GraphqlWaysAppOptions {
  driver: GraphqlDriverName;
  options?: KeypairAuthModuleOptions;
  /** More Apollo driver options (apollo only), e.g. `preserveHttpStatusForExecutionErrors`. */
  apollo?: Partial<ApolloDriverConfig>;
  httpsOptions?: Pick<HttpsServerOptions, 'key' | 'cert' | 'ca' | 'requestCert' | 'rejectUnauthorized'>;
}

/**
 * The real module with the guard as APP_GUARD (`globalGuard: true`) and the token API,
 * serving a code-first GraphQL schema on the driver's adapter with `rawBody: true`, as
 * the demo does: Apollo on Express, Mercurius on Fastify. SQLite in memory.
 */
export async function createGraphqlWaysApp(config: GraphqlWaysAppOptions): Promise<GraphqlWaysApp> {
  const graphql =
    config.driver === 'apollo'
      ? GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          playground: false,
          // As in production: an error carries its extensions, not the server's stack.
          includeStacktraceInErrorResponses: false,
          ...config.apollo,
        })
      : GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          autoSchemaFile: true,
          graphiql: false,
          // Mercurius loads its query cache (quick-lru, ESM) with import(), which Jest's CommonJS
          // runtime cannot do without --experimental-vm-modules; authentication does not use it.
          cache: false,
        });
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
      KeypairAuthModule.forRoot({
        ...config.options,
        adminApi: false,
        tokenApi: config.options?.tokens !== undefined,
        globalGuard: true,
      }),
      graphql,
    ],
    providers: [WaysInResolver],
    controllers: [WaysInRestController],
  }).compile();
  const logs = new CapturingLogger();
  moduleRef.useLogger(logs);
  const app: INestApplication =
    config.driver === 'mercurius'
      ? moduleRef.createNestApplication<NestFastifyApplication>(
          new FastifyAdapter(config.httpsOptions ? { https: config.httpsOptions } : undefined),
          { rawBody: true },
        )
      : moduleRef.createNestApplication({ rawBody: true, httpsOptions: config.httpsOptions });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const registry = app.get(KeyRegistry);
  return {
    app,
    server: `${config.httpsOptions ? 'https' : 'http'}://127.0.0.1:${port}`,
    registry,
    logs,
    addUser: (username, roles) => registry.directory.create!(username, roles),
    close: () => app.close(),
  };
}
