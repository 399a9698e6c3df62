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
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { serverKeys } from '../tokens/token-test-support';

/** What a subscriber receives: the published text, and who the subscription's handshake proved. */
@ObjectType()
class Message {
  @Field() text!: string;
  @Field() subscriber!: string;
  @Field() method!: string;
}

const bus = new EventEmitter();

/** Events published by the mutation, for as long as the subscriber listens. */
async function* messages(
  ctx: SecurityContext,
): AsyncGenerator<{ messages: Message; adminMessages: Message }> {
  for await (const [text] of on(bus, 'message') as AsyncIterable<[string]>) {
    const message = { text, subscriber: ctx.username, method: ctx.method };
    yield { messages: message, adminMessages: message };
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
  messages(@CurrentSecurityContext() ctx: SecurityContext): AsyncGenerator<unknown> {
    return messages(ctx);
  }

  @Roles('admin')
  @Subscription(() => Message)
  adminMessages(@CurrentSecurityContext() ctx: SecurityContext): AsyncGenerator<unknown> {
    return messages(ctx);
  }
}

@Module({ providers: [ChatResolver] })
class ChatModule {}

const alice = testKey('ed25519', 0); // admin
const bob = testKey('ed25519', 1); // reader
const mallory = testKey('ed25519', 2); // registered nowhere

interface Running {
  app: INestApplication;
  http: string;
  ws: string;
}

type Setup = 'apollo' | 'apollo-without-gate' | 'mercurius';

/**
 * The module with its global guard and GraphQL with subscriptions: Apollo on Express with
 * graphql-ws (and, unless 'apollo-without-gate', the handshake gate), or Mercurius on Fastify.
 */
async function start(setup: Setup): Promise<Running> {
  const graphql =
    setup === 'mercurius'
      ? GraphQLModule.forRootAsync<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          inject: [KeypairAuthGuard],
          useFactory: (guard: KeypairAuthGuard) => ({
            autoSchemaFile: true,
            // Mercurius loads its query cache with import(), which Jest's CommonJS VM cannot run.
            cache: false,
            subscription: keypairAuthMercuriusSubscription(guard),
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
        throttle: { maxFailures: 3, by: ['keyId'] },
        responseSigning: { keys: serverKeys().keys }, // signs the access tokens
        tokens: {},
        tokenApi: true,
      }),
      graphql,
      ChatModule,
    ],
  }).compile();
  const options = { logger: false as const, rawBody: true };
  const app =
    setup === 'mercurius'
      ? moduleRef.createNestApplication(new FastifyAdapter(), options)
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
  return { app, http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` };
}

/** The handshake signed as the library's client SDK signs a GET (RFC 9421, a fresh nonce). */
function signedHandshake(http: string, keyId: string, privateKey = keyId === 'bob' ? bob : alice) {
  return signRequest({ method: 'GET', url: `${http}/graphql` }, { keyId, privateKey: privateKey.privateKey })
    .headers;
}

/** A graphql-ws client whose upgrade request carries `headers` (the `ws` package as WebSocket). */
function client(
  url: string,
  headers: Record<string, string>,
  connectionParams?: Record<string, unknown>,
): Client {
  class HeaderWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  return createClient({
    url: `${url}/graphql`,
    webSocketImpl: HeaderWebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams,
  });
}

interface UpgradeRefusal {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** How a bare upgrade to /graphql ends: the HTTP refusal (status, headers, JSON body), or "open". */
function upgrade(url: string, headers: Record<string, string>): Promise<UpgradeRefusal | 'open'> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}/graphql`, 'graphql-transport-ws', { headers });
    socket.on('open', () => {
      socket.close();
      resolve('open');
    });
    socket.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: JSON.parse(text) as Record<string, unknown>,
        }),
      );
    });
    socket.on('error', reject);
  });
}

/** Subscribes, publishes `text` through a mutation once the subscription is live, and returns what arrived. */
async function subscribeAndPublish(c: Client, t: Running, field: 'messages' | 'adminMessages', text: string) {
  const events = c.iterate<Record<string, Message>>({
    query: `subscription { ${field} { text subscriber method } }`,
  });
  const first = events.next();
  // The subscription is live once the server acknowledged and ran the resolver: publish until it answers.
  const body = JSON.stringify({ query: `mutation { publish(text: ${JSON.stringify(text)}) }` });
  const publisher = setInterval(() => {
    const { headers } = signRequest(
      { method: 'POST', url: `${t.http}/graphql`, headers: { 'content-type': 'application/json' }, body },
      { keyId: 'alice', privateKey: alice.privateKey },
    );
    void fetch(`${t.http}/graphql`, { method: 'POST', headers, body }).then(async (res) => {
      const answer = (await res.json()) as { errors?: unknown };
      // A refused publish would leave the subscriber waiting: say why instead.
      if (answer.errors) console.error(`publish refused: ${JSON.stringify(answer.errors)}`);
    });
  }, 100);
  try {
    return await first;
  } finally {
    clearInterval(publisher);
    await events.return?.();
  }
}

/** The close event or error a refused client's subscription ends with. */
async function refusal(c: Client): Promise<unknown> {
  try {
    await c.iterate({ query: 'subscription { messages { text } }' }).next();
  } catch (error) {
    return error;
  }
  throw new Error('the subscription was not refused');
}

describe.each([
  ['Apollo, Express: keypairAuthGraphqlWs()', 'apollo'],
  ['Mercurius, Fastify: keypairAuthMercuriusSubscription()', 'mercurius'],
] as const)('GraphQL subscriptions over graphql-ws (%s): the handshake authenticates', (_name, setup) => {
  let t: Running;
  const clients: Client[] = [];
  const track = (c: Client): Client => (clients.push(c), c);
  beforeAll(async () => {
    t = await start(setup);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t.app.close();
  });

  it('G81: a subscription whose handshake is signed (RFC 9421 GET, nonce) receives the events a mutation publishes, as its signer', async () => {
    const c = track(client(t.ws, signedHandshake(t.http, 'bob')));
    const event = await subscribeAndPublish(c, t, 'messages', 'hello');
    expect(event.value).toEqual({
      data: { messages: { text: 'hello', subscriber: 'bob', method: 'http-signature-rfc9421' } },
    });
  });

  it('G81: a client JWT in Authorization authenticates the handshake too', async () => {
    const c = track(client(t.ws, { authorization: await jwtHeader(alice.privateKey, 'alice', 'alice') }));
    const event = await subscribeAndPublish(c, t, 'messages', 'jwt');
    expect(event.value).toEqual({ data: { messages: { text: 'jwt', subscriber: 'alice', method: 'jwt' } } });
  });

  it('G81: an access token from the token API (Authorization: Bearer) authenticates the handshake too', async () => {
    const tokens = createTokenClient({ baseUrl: t.http, keyId: 'bob', privateKey: bob.privatePem });
    const c = track(client(t.ws, { authorization: `Bearer ${await tokens.accessToken()}` }));
    const event = await subscribeAndPublish(c, t, 'messages', 'token');
    expect(event.value).toEqual({
      data: { messages: { text: 'token', subscriber: 'bob', method: 'access-token' } },
    });
  });

  it('G82: an unsigned handshake is refused before the socket opens: 401 CREDENTIALS_MISSING, and the client gets no connection', async () => {
    expect(await upgrade(t.ws, {})).toMatchObject({
      status: 401,
      headers: { 'www-authenticate': expect.stringContaining('Signature'), 'cache-control': 'no-store' },
      body: { statusCode: 401, code: 'CREDENTIALS_MISSING' },
    });
    const error = await refusal(track(client(t.ws, {})));
    // graphql-ws reports the refused upgrade as the WebSocket's error event: it never connected.
    expect(error).toMatchObject({ message: 'Unexpected server response: 401' });
  });

  it('G82: a handshake signed by another key than its keyId names is 401 KEY_UNKNOWN_OR_SIGNATURE_INVALID', async () => {
    const forged = signRequest(
      { method: 'GET', url: `${t.http}/graphql` },
      { keyId: 'alice', privateKey: mallory.privateKey },
    ).headers;
    expect(await upgrade(t.ws, forged)).toMatchObject({
      status: 401,
      body: { code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    });
  });

  it('G82: a replayed handshake (the same signed headers again) is refused: the nonce was spent by the first', async () => {
    const headers = signedHandshake(t.http, 'bob');
    expect(await upgrade(t.ws, headers)).toBe('open');
    expect(await upgrade(t.ws, headers)).toMatchObject({ status: 401, body: { code: 'REPLAYED' } });
  });

  it('G82: credentials in connectionParams never authenticate: the upgrade without headers is refused', async () => {
    const jwt = await jwtHeader(alice.privateKey, 'alice', 'alice');
    const error = await refusal(track(client(t.ws, {}, { Authorization: jwt, authorization: jwt })));
    expect(error).toMatchObject({ message: 'Unexpected server response: 401' });
  });

  it("G83: @Roles('admin') on a subscription refuses a reader key with ROLE_REQUIRED; an admin key receives", async () => {
    const reader = track(client(t.ws, signedHandshake(t.http, 'bob')));
    // Apollo answers with a `next` message holding the errors, Mercurius with an `error` message.
    const refused = await reader
      .iterate({ query: 'subscription { adminMessages { text } }' })
      .next()
      .then(
        (result) => result.value as unknown,
        (errors: unknown) => ({ errors }),
      );
    expect(refused).toMatchObject({ errors: [{ extensions: { code: 'ROLE_REQUIRED' } }] });
    const admin = track(client(t.ws, signedHandshake(t.http, 'alice')));
    const event = await subscribeAndPublish(admin, t, 'adminMessages', 'for admins');
    expect(event.value).toEqual({
      data: { adminMessages: { text: 'for admins', subscriber: 'alice', method: 'http-signature-rfc9421' } },
    });
  });

  it('G82: refused handshakes count for the throttle: after 3 failures for a key id, 429 AUTH_THROTTLED with Retry-After', async () => {
    const forged = () =>
      signRequest(
        { method: 'GET', url: `${t.http}/graphql` },
        { keyId: 'victim', privateKey: mallory.privateKey },
      ).headers;
    for (let i = 0; i < 3; i++) expect(await upgrade(t.ws, forged())).toMatchObject({ status: 401 });
    expect(await upgrade(t.ws, forged())).toMatchObject({
      status: 429,
      headers: { 'retry-after': expect.stringMatching(/^\d+$/) },
      body: { code: 'AUTH_THROTTLED' },
    });
  });
});

describe('graphql-ws without the handshake gate: keypairAuthGraphqlWsOptions() closes unauthenticated connections', () => {
  let t: Running;
  beforeAll(async () => {
    t = await start('apollo-without-gate');
  });
  afterAll(() => t.app.close());

  it('G84: a connection whose upgrade nobody authenticated is closed with 4403 at connection_init, whatever its connectionParams say', async () => {
    const jwt = await jwtHeader(alice.privateKey, 'alice', 'alice');
    const c = client(t.ws, {}, { Authorization: jwt });
    try {
      expect(await refusal(c)).toMatchObject({ code: 4403, reason: 'Forbidden' });
    } finally {
      await c.dispose();
    }
  });
});

describe('keypairAuthGraphqlWs() called too early', () => {
  it('fails at startup, saying to call it after app.init(), when no upgrade handler is there yet', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
        KeypairAuthModule.forRoot({ globalGuard: true }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          subscriptions: { 'graphql-ws': keypairAuthGraphqlWsOptions() },
        }),
        ChatModule,
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      expect(() => keypairAuthGraphqlWs(app)).toThrow(/after `await app\.init\(\)`/);
    } finally {
      await app.close();
    }
  });
});
