import { INestApplication, Module } from '@nestjs/common';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import {
  Args,
  Field,
  GraphQLModule,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Subscription,
} from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitter, on } from 'node:events';
import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import fastifyWebsocket from '@fastify/websocket';
import {
  CurrentSecurityContext,
  dataSourceOptionsFromUrl,
  KeypairAuthGuard,
  KeypairAuthModule,
  KeyRegistry,
  Roles,
  SecurityContext,
} from '../../src';
import { signRequest } from '../../src/client';
import {
  keypairAuthGraphqlWs,
  keypairAuthGraphqlWsOptions,
  keypairAuthMercuriusSubscription,
} from '../../src/graphql-ws';
import { testKey } from '../support/keys';
import { CapturingLogger } from '../support/test-app';
import { serverKeys } from '../tokens/token-test-support';

/**
 * Red team 8 (issue 17): an app that registers @fastify/websocket before Mercurius loses
 * keypairAuthMercuriusSubscription()'s verifyClient (Mercurius only registers the plugin, and
 * its verifyClient, when it is absent). Unauthenticated connections opened, and operations were
 * authenticated from the unchecked upgrade headers (no expiry, one log line per connection).
 * Now every such connection is closed at connection_init (4403) with an error log naming the fix.
 */

@ObjectType()
class Message {
  @Field() text!: string;
}

const bus = new EventEmitter();

async function* messages(): AsyncGenerator<{ messages: Message; adminMessages: Message }> {
  for await (const [text] of on(bus, 'message') as AsyncIterable<[string]>) {
    yield { messages: { text }, adminMessages: { text } };
  }
}

@Resolver()
class ChatResolver {
  @Query(() => String)
  whoami(@CurrentSecurityContext() ctx: SecurityContext): string {
    return ctx.username;
  }

  @Mutation(() => Boolean)
  publish(@Args('text') text: string): boolean {
    bus.emit('message', text);
    return true;
  }

  @Subscription(() => Message)
  messages(): AsyncGenerator<unknown> {
    return messages();
  }

  @Roles('admin')
  @Subscription(() => Message)
  adminMessages(): AsyncGenerator<unknown> {
    return messages();
  }
}

@Module({ providers: [ChatResolver] })
class ChatModule {}

const alice = testKey('ed25519', 0); // admin
const bob = testKey('ed25519', 1); // reader
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Setup = 'apollo' | 'mercurius';

interface Running {
  app: INestApplication;
  http: string;
  ws: string;
  registry: KeyRegistry;
  logs: CapturingLogger;
  server: ReturnType<typeof serverKeys>;
}

function fastifyAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter();
  // The app's own WebSocket route needs @fastify/websocket: registered before GraphQLModule's Mercurius.
  void adapter.getInstance().register(fastifyWebsocket as never);
  return adapter;
}

/** The module (global guard, token API, no clock skew) and GraphQL with subscriptions: Apollo on Express or Mercurius on Fastify. */
async function start(setup: Setup): Promise<Running> {
  const server = serverKeys();
  const graphql =
    setup === 'mercurius'
      ? GraphQLModule.forRootAsync<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          inject: [KeypairAuthGuard],
          useFactory: (guard: KeypairAuthGuard) => ({
            autoSchemaFile: true,
            // Mercurius loads its query cache with import(), which Jest's CommonJS VM cannot run.
            cache: false,
            // fullWsTransport: queries and mutations over the WebSocket too, so the tests can send them.
            subscription: { ...keypairAuthMercuriusSubscription(guard), fullWsTransport: true },
          }),
        })
      : GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          subscriptions: { 'graphql-ws': keypairAuthGraphqlWsOptions() },
        });
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
      KeypairAuthModule.forRoot({
        globalGuard: true,
        clockSkewSeconds: 0,
        responseSigning: { keys: server.keys }, // signs the access tokens
        tokens: {},
        tokenApi: true,
      }),
      graphql,
      ChatModule,
    ],
  }).compile();
  const logs = new CapturingLogger();
  const options = { logger: logs, rawBody: true };
  const app =
    setup === 'mercurius'
      ? moduleRef.createNestApplication(fastifyAdapter(), options)
      : moduleRef.createNestApplication(options);
  await app.init();
  if (setup === 'apollo') keypairAuthGraphqlWs(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const registry = app.get(KeyRegistry);
  const admin = await registry.directory.create!('alice', ['admin', 'reader']);
  await registry.register(admin, alice.publicPem, { keyId: 'alice' });
  const reader = await registry.directory.create!('bob', ['reader']);
  await registry.register(reader, bob.publicPem, { keyId: 'bob' });
  return { app, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}`, registry, logs, server };
}

/** The handshake signed as the library's client SDK signs a GET (RFC 9421, a fresh nonce). */
function signedHandshake(http: string, keyId: 'alice' | 'bob') {
  const key = keyId === 'bob' ? bob : alice;
  return signRequest({ method: 'GET', url: `${http}/graphql` }, { keyId, privateKey: key.privateKey })
    .headers;
}

/** A graphql-ws client whose upgrade request carries `headers`; it connects at once and never reconnects. */
function client(url: string, headers: Record<string, string>, onClosed?: (event: unknown) => void): Client {
  class HeaderWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  return createClient({
    url: `${url}/graphql`,
    webSocketImpl: HeaderWebSocket,
    retryAttempts: 0,
    lazy: false,
    // A non-lazy client reports its close to console.error by default; the tests read it from `on.closed`.
    onNonLazyError: () => undefined,
    on: onClosed ? { closed: onClosed } : undefined,
  });
}

/** The first answer of one operation: its `next` payload, or what it ended with (errors or a close event). */
async function first(c: Client, query: string): Promise<unknown> {
  const operation = c.iterate({ query });
  try {
    return (await operation.next()).value;
  } catch (error) {
    return { failed: error };
  } finally {
    await operation.return?.();
  }
}

describe('Mercurius when the app registered @fastify/websocket before it (its verifyClient is dropped)', () => {
  let t: Running;
  beforeAll(async () => {
    t = await start('mercurius');
  }, 60_000);
  afterAll(async () => {
    await t?.app.close();
  });

  const closedAtInit = async (headers: Record<string, string>) => {
    let closed: { code?: number } | undefined;
    const c = client(t.ws, headers, (event) => (closed = event as { code?: number }));
    try {
      const answer = await first(c, '{ whoami }');
      await sleep(100);
      return { answer, code: closed?.code };
    } finally {
      await c.dispose();
    }
  };

  it('red team 8: a connection without credentials is closed with 4403 at connection_init; no operation runs, and the log names the fix', async () => {
    const before = t.logs.entries.length;
    const { answer, code } = await closedAtInit({});
    expect(code).toBe(4403);
    expect(JSON.stringify(answer)).not.toContain('"data"');
    const errors = t.logs.entries.slice(before).filter((e) => e.level === 'error');
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringContaining('register your own @fastify/websocket routes after GraphQLModule'),
    ]);
  }, 15_000);

  it('red team 8: a signed connection is closed too (its handshake was never checked), and nothing it sends runs', async () => {
    const { answer, code } = await closedAtInit(signedHandshake(t.http, 'bob'));
    expect(code).toBe(4403);
    expect(JSON.stringify(answer)).not.toContain('"data"');
  }, 15_000);
});
