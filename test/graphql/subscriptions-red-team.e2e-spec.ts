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
import fastifyWebsocket from '@fastify/websocket';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitter, on } from 'node:events';
import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CurrentSecurityContext,
  dataSourceOptionsFromUrl,
  KeypairAuthGuard,
  KeypairAuthModule,
  KeyRegistry,
  Roles,
  SecurityContext,
} from '../../src';
import { createTokenClient, signRequest } from '../../src/client';
import {
  keypairAuthGraphqlWs,
  keypairAuthGraphqlWsOptions,
  keypairAuthMercuriusSubscription,
} from '../../src/graphql-ws';
import { testKey } from '../support/keys';
import { CapturingLogger } from '../support/test-app';
import { resign, serverKeys } from '../tokens/token-test-support';

/**
 * Regression tests for the red-team findings of issue 17 on graphql-ws subscriptions (red team 7):
 * an access token past its exp kept running operations on its open connection; refusals on one
 * long-lived connection were logged once (the memo was keyed on the shared upgrade request).
 * Also what a key revocation does to an open connection (docs/graphql.md says it).
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

/**
 * Fastify for Mercurius; with `websocketFirst`, @fastify/websocket is registered before
 * Mercurius, as an app with a WebSocket route of its own does (Mercurius then drops our verifyClient).
 */
function fastifyAdapter(websocketFirst: boolean): FastifyAdapter {
  const adapter = new FastifyAdapter();
  if (websocketFirst) void adapter.getInstance().register(fastifyWebsocket as never);
  return adapter;
}

/** The module (global guard, token API, no clock skew) and GraphQL with subscriptions: Apollo on Express or Mercurius on Fastify. */
async function start(setup: Setup, { fastifyWebsocketFirst = false } = {}): Promise<Running> {
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
      ? moduleRef.createNestApplication(fastifyAdapter(fastifyWebsocketFirst), options)
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

/** The `extensions.code` of an operation's refusal (Apollo: `next` with errors; Mercurius: an `error` message). */
function refusalCode(answer: unknown): unknown {
  const a = answer as { errors?: { extensions?: { code?: unknown } }[]; failed?: unknown };
  if (a.errors) return a.errors[0]?.extensions?.code;
  const failed = a.failed as { extensions?: { code?: unknown } }[] | { code?: number } | undefined;
  if (Array.isArray(failed)) return failed[0]?.extensions?.code;
  return failed;
}

/** An access token from the token API for bob, re-signed by the server key to expire `seconds` from now. */
async function shortLivedToken(t: Running, seconds: number): Promise<{ token: string; expMs: number }> {
  const tokens = createTokenClient({ baseUrl: t.http, keyId: 'bob', privateKey: bob.privatePem });
  const exp = Math.floor(Date.now() / 1000) + seconds;
  return {
    token: await resign(await tokens.accessToken(), t.server.current, {}, { exp }),
    expMs: exp * 1000,
  };
}

describe.each(['apollo', 'mercurius'] as const)('graphql-ws subscriptions red team (%s)', (setup) => {
  let t: Running;
  beforeAll(async () => {
    t = await start(setup);
  }, 60_000);
  afterAll(async () => {
    await t?.app.close();
  });

  it(
    setup === 'apollo'
      ? "red team 7: an access token's graphql-ws socket closes at exp with 4401 TOKEN_EXPIRED; no query, mutation or new subscription runs after it"
      : "red team 7: after an access token's exp, queries, mutations and new subscriptions on its open graphql-ws connection are refused TOKEN_EXPIRED",
    async () => {
      const { token, expMs } = await shortLivedToken(t, 2);
      const closes: { code?: number; reason?: string; at: number }[] = [];
      const c = client(t.ws, { authorization: `Bearer ${token}` }, (event) => {
        const { code, reason } = event as { code?: number; reason?: string };
        closes.push({ code, reason, at: Date.now() });
      });
      // A subscription that stays live keeps the connection open until exp.
      const keeper = c.iterate({ query: 'subscription { messages { text } }' });
      const keeperEnd = keeper.next().then(
        () => 'next',
        (error: unknown) => error,
      );
      try {
        // Before exp the token is served, so the refusals below are the expiry's.
        expect(await first(c, '{ whoami }')).toEqual({ data: { whoami: 'bob' } });
        await sleep(expMs - Date.now() + 300);
        if (setup === 'apollo') {
          expect(closes).toHaveLength(1);
          expect(closes[0]).toMatchObject({ code: 4401, reason: 'TOKEN_EXPIRED' });
          expect(closes[0].at).toBeGreaterThanOrEqual(expMs - 50);
          expect(closes[0].at).toBeLessThan(expMs + 300);
          expect(await keeperEnd).toMatchObject({ code: 4401 });
          // The connection is gone: a new operation cannot run on it (the client has no retry).
          for (const query of [
            '{ whoami }',
            'mutation { publish(text: "after-exp") }',
            'subscription { messages { text } }',
          ]) {
            expect(await first(c, query)).not.toMatchObject({ data: expect.anything() });
          }
        } else {
          expect(closes).toEqual([]);
          expect(refusalCode(await first(c, '{ whoami }'))).toBe('TOKEN_EXPIRED');
          expect(refusalCode(await first(c, 'mutation { publish(text: "after-exp") }'))).toBe(
            'TOKEN_EXPIRED',
          );
          expect(refusalCode(await first(c, 'subscription { messages { text } }'))).toBe('TOKEN_EXPIRED');
        }
      } finally {
        await keeper.return?.();
        await c.dispose();
      }
    },
    15_000,
  );

  it('red team 7: each refused operation on one long-lived graphql-ws connection is logged and audited, not only the first', async () => {
    const c = client(t.ws, signedHandshake(t.http, 'bob'));
    try {
      const failures = () => t.logs.entries.filter((e) => e.message.includes('auth.failure')).length;
      const before = failures();
      for (let i = 0; i < 5; i++) {
        expect(refusalCode(await first(c, 'subscription { adminMessages { text } }'))).toBe('ROLE_REQUIRED');
      }
      await sleep(100);
      expect(failures() - before).toBe(5);
    } finally {
      await c.dispose();
    }
  }, 15_000);

  it('red team 8: each mutation refused for the Idempotency-Key of a connection is logged and audited, not only the first', async () => {
    const c = client(t.ws, { ...signedHandshake(t.http, 'bob'), 'idempotency-key': '"k1"' });
    try {
      const failures = () => t.logs.entries.filter((e) => e.message.includes('auth.failure')).length;
      const before = failures();
      for (let i = 0; i < 5; i++) {
        expect(refusalCode(await first(c, `mutation { publish(text: "m${i}") }`))).toBe(
          'IDEMPOTENCY_KEY_NOT_SUPPORTED',
        );
      }
      await sleep(100);
      expect(failures() - before).toBe(5);
    } finally {
      await c.dispose();
    }
  }, 15_000);

  it('a key revoked while its graphql-ws connection is open: new connections are refused, the open one keeps its handshake context', async () => {
    const c = client(t.ws, signedHandshake(t.http, 'alice'));
    try {
      expect(await first(c, '{ whoami }')).toEqual({ data: { whoami: 'alice' } });
      await t.registry.revoke('alice');
      const refused = await new Promise<number | 'open'>((resolve, reject) => {
        const socket = new WebSocket(`${t.ws}/graphql`, 'graphql-transport-ws', {
          headers: signedHandshake(t.http, 'alice'),
        });
        socket.on('open', () => (socket.close(), resolve('open')));
        socket.on('unexpected-response', (_req, res) => (res.resume(), resolve(res.statusCode ?? 0)));
        socket.on('error', reject);
      });
      expect(refused).toBe(401);
      // Documented limitation (docs/graphql.md): the open connection is not re-checked.
      expect(await first(c, '{ whoami }')).toEqual({ data: { whoami: 'alice' } });
    } finally {
      await c.dispose();
    }
  }, 15_000);
});

describe('Mercurius when the app registered @fastify/websocket before it (its verifyClient is dropped)', () => {
  let t: Running;
  beforeAll(async () => {
    t = await start('mercurius', { fastifyWebsocketFirst: true });
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
