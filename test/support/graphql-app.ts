import { INestApplication, UseGuards } from '@nestjs/common';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import {
  Args,
  Field,
  GraphQLModule,
  Int,
  Mutation,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CurrentSecurityContext,
  dataSourceOptionsFromUrl,
  KeypairAuthGuard,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  KeyRegistry,
  MemoryReplayStore,
  Public,
  ReplayStoreUnavailableError,
  RequireSignature,
  Roles,
  RolesGuard,
  SecurityContext,
} from '../../src';
import { send, SendOptions, SendResult } from './certificates';
import { CapturingLogger, QueryCounter, TestApp } from './test-app';
import { createTestDatabase } from './test-database';

/** The two GraphQL servers the library supports: Apollo on Express, Mercurius on Fastify. */
export type GraphQLServerName = 'apollo' | 'mercurius';
export const GRAPHQL_SERVERS: GraphQLServerName[] = ['apollo', 'mercurius'];

/**
 * A ReplayStore that counts claims, so a test can show that one HTTP request claims its
 * nonce once however many guarded resolvers it reaches. A real MemoryReplayStore underneath.
 */
export class CountingReplayStore extends MemoryReplayStore {
  readonly claims: { scope: string; nonce: string }[] = [];
  /** While true, claims fail as an unreachable store's do (an outage, for the 503 path). */
  failing = false;
  override claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    this.claims.push({ scope, nonce });
    if (this.failing) return Promise.reject(new ReplayStoreUnavailableError('test outage'));
    return super.claim(scope, nonce, ttlMs);
  }
}

/** What the resolvers of the test schema did: which SecurityContext each saw, which mutations ran. */
export class ResolverLog {
  /** [resolver name, the SecurityContext object it was given]. */
  readonly contexts: [string, SecurityContext][] = [];
  /** Mutations that ran, by name. */
  readonly mutations: string[] = [];
}

@ObjectType()
export class WhoAmI {
  @Field() username!: string;
  @Field() keyId!: string;
  @Field() method!: string;
  @Field(() => [String]) roles!: string[];
}

@ObjectType()
export class Account {
  @Field() name!: string;
  /** Resolved by a @ResolveField with @Roles('admin'): guarded only with fieldResolverEnhancers: ['guards']. */
  @Field(() => String, { nullable: true }) secret?: string;
}

function who(ctx: SecurityContext): WhoAmI {
  return { username: ctx.username, keyId: ctx.keyId, method: ctx.method, roles: [...ctx.roles] };
}

/** The test schema: guarded and public queries, a role-protected query and field, mutations. */
@Resolver(() => Account)
@UseGuards(KeypairAuthGuard)
export class ProbeResolver {
  constructor(private readonly log: ResolverLog) {}

  @Query(() => WhoAmI, { nullable: true })
  whoami(@CurrentSecurityContext() ctx: SecurityContext): WhoAmI {
    this.log.contexts.push(['whoami', ctx]);
    return who(ctx);
  }

  /** Non-null: a refusal here makes `data` null (what decides the HTTP status on Mercurius). */
  @Query(() => String)
  me(@CurrentSecurityContext() ctx: SecurityContext): string {
    this.log.contexts.push(['me', ctx]);
    return ctx.username;
  }

  @Public()
  @Query(() => String)
  open(): string {
    return 'open';
  }

  @Roles('admin')
  @Query(() => String, { nullable: true })
  adminSecret(@CurrentSecurityContext() ctx: SecurityContext): string {
    this.log.contexts.push(['adminSecret', ctx]);
    return `for ${ctx.username}`;
  }

  @Query(() => Account, { nullable: true })
  account(@CurrentSecurityContext() ctx: SecurityContext): Account {
    this.log.contexts.push(['account', ctx]);
    return { name: `${ctx.username}'s account` };
  }

  @Roles('admin')
  @ResolveField(() => String, { nullable: true })
  secret(@Parent() account: Account, @CurrentSecurityContext() ctx: SecurityContext): string {
    this.log.contexts.push(['Account.secret', ctx]);
    return `secret of ${account.name}`;
  }

  @Mutation(() => Int, { nullable: true })
  transfer(
    @Args('amount', { type: () => Int }) amount: number,
    @CurrentSecurityContext() ctx: SecurityContext,
  ) {
    this.log.contexts.push(['transfer', ctx]);
    this.log.mutations.push('transfer');
    return amount;
  }

  @Public()
  @Mutation(() => String)
  ping(): string {
    this.log.mutations.push('ping');
    return 'pong';
  }
}

/** Five more guarded resolvers, so one request can reach many guards with distinct handlers. */
@Resolver()
@UseGuards(KeypairAuthGuard)
export class FiveResolver {
  constructor(private readonly log: ResolverLog) {}

  private seen(name: string, ctx: SecurityContext): string {
    this.log.contexts.push([name, ctx]);
    return ctx.username;
  }
  @Query(() => String, { nullable: true }) g1(@CurrentSecurityContext() c: SecurityContext) {
    return this.seen('g1', c);
  }
  @Query(() => String, { nullable: true }) g2(@CurrentSecurityContext() c: SecurityContext) {
    return this.seen('g2', c);
  }
  @Query(() => String, { nullable: true }) g3(@CurrentSecurityContext() c: SecurityContext) {
    return this.seen('g3', c);
  }
  @Query(() => String, { nullable: true }) g4(@CurrentSecurityContext() c: SecurityContext) {
    return this.seen('g4', c);
  }
  @Query(() => String, { nullable: true }) g5(@CurrentSecurityContext() c: SecurityContext) {
    return this.seen('g5', c);
  }
}

/** @RequireSignature() on one resolver next to unmarked ones: one authentication, under the first guarded resolver's policy. */
@Resolver()
@UseGuards(KeypairAuthGuard)
export class SignedOnlyResolver {
  @RequireSignature({ requiredComponents: ['content-type'] })
  @Query(() => String, { nullable: true })
  signedOnly(@CurrentSecurityContext() ctx: SecurityContext): string {
    return ctx.method;
  }
}

/** RolesGuard alone (no KeypairAuthGuard): it reads the context another guard put there, or refuses. */
@Resolver()
@UseGuards(RolesGuard)
export class RolesGuardResolver {
  @Roles('admin')
  @Query(() => String, { nullable: true })
  rolesGuardOnly(): string {
    return 'reached';
  }
}

export interface GraphQLAppOptions {
  server: GraphQLServerName;
  options?: KeypairAuthModuleOptions;
  /** Batched operations in one HTTP request (Apollo `allowBatchedHttpRequests`, Mercurius `allowBatchedQueries`). */
  batching?: boolean;
  /** Guards on @ResolveField (default true): GraphQLModule's `fieldResolverEnhancers: ['guards']`. */
  fieldGuards?: boolean;
  /** The app's own GraphQL `context` option, e.g. one that drops or copies `req`. */
  context?: (...args: never[]) => unknown;
  /** Log to this logger (e.g. another app's, so one list holds both apps' logs). */
  logs?: CapturingLogger;
  /** Extra GraphQLModule options for the driver (e.g. preserveHttpStatusForExecutionErrors). */
  driverOptions?: Record<string, unknown>;
}

export interface GraphQLTestApp extends TestApp {
  readonly server: string;
  readonly kind: GraphQLServerName;
  readonly store: CountingReplayStore;
  readonly resolvers: ResolverLog;
  /** POSTs `body` (an object is sent as JSON) to /graphql with these headers. */
  post(body: unknown, headers?: Record<string, string>, options?: SendOptions): Promise<SendResult>;
  /** The answer's GraphQL errors, with their codes and paths. */
  errors(res: SendResult): { code: unknown; path: unknown; message: unknown; extensions: unknown }[];
}

/**
 * The real KeypairAuthModule with a real GraphQL server over real HTTP: Apollo Server on
 * Express (@nestjs/apollo) or Mercurius on Fastify (@nestjs/mercurius), code-first schema,
 * rawBody on (so RFC 9421 Content-Digest can be checked), in-memory SQLite for keys and
 * users, and a CountingReplayStore. The app logs to a CapturingLogger.
 */
export async function createGraphQLApp(config: GraphQLAppOptions): Promise<GraphQLTestApp> {
  const database = await createTestDatabase('sqlite');
  const queries = new QueryCounter();
  const store = new CountingReplayStore();
  const log = new ResolverLog();
  const common = {
    autoSchemaFile: true as const,
    path: '/graphql',
    fieldResolverEnhancers: config.fieldGuards === false ? [] : (['guards'] as const),
    ...(config.context ? { context: config.context } : {}),
  };
  const graphql =
    config.server === 'apollo'
      ? GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          ...common,
          fieldResolverEnhancers: [...common.fieldResolverEnhancers],
          playground: false,
          allowBatchedHttpRequests: config.batching ?? false,
          ...config.driverOptions,
        } as ApolloDriverConfig)
      : GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          ...common,
          fieldResolverEnhancers: [...common.fieldResolverEnhancers],
          graphiql: false,
          // Mercurius loads its query cache (quick-lru, ESM) with a dynamic import(), which Jest's
          // CommonJS runtime cannot do without --experimental-vm-modules: the tests run uncached.
          cache: false,
          allowBatchedQueries: config.batching ?? false,
          ...config.driverOptions,
        } as MercuriusDriverConfig);
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        ...dataSourceOptionsFromUrl(database.url),
        migrationsRun: true,
        logging: ['query'],
        logger: queries,
      }),
      KeypairAuthModule.forRoot({ ...config.options, replayStore: store }),
      graphql,
    ],
    providers: [
      ProbeResolver,
      FiveResolver,
      RolesGuardResolver,
      SignedOnlyResolver,
      { provide: ResolverLog, useValue: log },
    ],
  }).compile();
  const logs = config.logs ?? new CapturingLogger();
  moduleRef.useLogger(logs);
  let app: INestApplication;
  if (config.server === 'mercurius') {
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true });
  } else {
    app = moduleRef.createNestApplication({ rawBody: true });
  }
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const server = `http://127.0.0.1:${address.port}`;
  const registry = app.get(KeyRegistry);
  return {
    app,
    server,
    kind: config.server,
    registry,
    dataSource: app.get(DataSource),
    queries,
    logs,
    store,
    resolvers: log,
    addUser: (username, roles) => registry.directory.create!(username, roles),
    post: (body, headers = {}, options = {}) =>
      send(`${server}/graphql`, {
        method: 'POST',
        ...options,
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    errors: (res) => {
      const list = Array.isArray(res.body)
        ? res.body.flatMap((r) => (r as { errors?: unknown[] }).errors ?? [])
        : ((res.body.errors as unknown[] | undefined) ?? []);
      return (list as { path?: unknown; message?: unknown; extensions?: { code?: unknown } }[]).map((e) => ({
        code: e.extensions?.code,
        path: e.path,
        message: e.message,
        extensions: e.extensions,
      }));
    },
    close: async () => {
      await app.close();
      store.close();
      await database.drop();
    },
  };
}
