import { INestApplication, Type } from '@nestjs/common';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  dataSourceOptionsFromUrl,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  KeyRegistry,
} from '../../src';
import { send, SendResult } from './certificates';
import { GraphQLServerName } from './graphql-app';
import { CapturingLogger } from './test-app';

/** A small GraphQL app for the red-team regression tests: the real module, a real server, given resolvers. */
export interface RedTeamGraphQLApp {
  app: INestApplication;
  /** http://127.0.0.1:port */
  url: string;
  registry: KeyRegistry;
  logs: CapturingLogger;
  /** POST /graphql with a JSON body. */
  post(body: unknown, headers?: Record<string, string>): Promise<SendResult>;
  close(): Promise<void>;
}

/**
 * Apollo on Express or Mercurius on Fastify, guards on field resolvers, batching on, an
 * in-memory SQLite key store. `driver` adds driver options (plugins, for instance).
 */
export async function createRedTeamGraphQLApp(
  server: GraphQLServerName,
  resolvers: Type<unknown>[],
  options: KeypairAuthModuleOptions = {},
  driver: Record<string, unknown> = {},
): Promise<RedTeamGraphQLApp> {
  const common = {
    autoSchemaFile: true as const,
    path: '/graphql',
    fieldResolverEnhancers: ['guards' as const],
  };
  const graphql =
    server === 'apollo'
      ? GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          ...common,
          playground: false,
          allowBatchedHttpRequests: true,
          ...driver,
        } as ApolloDriverConfig)
      : GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          ...common,
          graphiql: false,
          cache: false,
          allowBatchedQueries: true,
          ...driver,
        } as MercuriusDriverConfig);
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
      KeypairAuthModule.forRoot(options),
      graphql,
    ],
    providers: resolvers,
  }).compile();
  const logs = new CapturingLogger();
  moduleRef.useLogger(logs);
  const app =
    server === 'mercurius'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { rawBody: true })
      : moduleRef.createNestApplication({ rawBody: true });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    url,
    registry: app.get(KeyRegistry),
    logs,
    post: (body, headers = {}) =>
      send(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: () => app.close(),
  };
}
