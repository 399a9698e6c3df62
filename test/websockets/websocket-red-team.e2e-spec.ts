import { randomBytes } from 'node:crypto';
import { connect as tcp, Socket } from 'node:net';
import { INestApplication, Type, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import {
  CurrentSecurityContext,
  dataSourceOptionsFromUrl,
  KeypairAuthGuard,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  KeyRegistry,
  Roles,
  RolesGuard,
  SecurityContext,
} from '../../src';
import { signRequest } from '../../src/client';
import { KeypairAuthWsAdapter } from '../../src/websockets';
import { KeypairAuthIoAdapter } from '../../src/websockets/socket-io';
import { testKey } from '../support/keys';
import { challengeLogin, resign, serverKeys, TOKEN_CONTROLLERS } from '../tokens/token-test-support';
import { connect, createWsTestApp, FLAVOURS, seen, WsTestApp } from './websocket-test-app';

/**
 * Regression tests for the red-team findings of issue 17 on WebSockets: a gateway's own
 * verifyClient that throws, messages after a revocation close the client does not answer,
 * a revocation while the handshake completes, and a socket.io connection that joins a
 * guarded namespace after its key was revoked. Red team 7: two gateways on one ws path or
 * socket.io namespace (both bind the one connection), and a connection ended as it opens.
 */

const ALICE = testKey('ed25519', 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Handler runs, by time, so a test can count the ones after a revocation. */
const handled: number[] = [];

interface RedTeamWsApp {
  app: INestApplication;
  port: number;
  registry: KeyRegistry;
}

/** The real module on Express with one gateway, served through our ws or socket.io adapter; alice (admin) registered. */
async function startApp(
  gateway: Type<unknown> | Type<unknown>[],
  adapter: 'ws' | 'socket.io',
  options: KeypairAuthModuleOptions = {},
): Promise<RedTeamWsApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
      KeypairAuthModule.forRoot(options),
    ],
    providers: Array.isArray(gateway) ? gateway : [gateway],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useWebSocketAdapter(adapter === 'ws' ? new KeypairAuthWsAdapter(app) : new KeypairAuthIoAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const registry = app.get(KeyRegistry);
  const alice = await registry.directory.create!('alice', ['admin']);
  await registry.register(alice, ALICE.publicPem, { keyId: 'alice-ed' });
  return { app, port, registry };
}

/** Headers of a GET signed by alice's key. */
const signedHeaders = (url: string) =>
  signRequest({ method: 'GET', url }, { keyId: 'alice-ed', privateKey: ALICE.privateKey }).headers;

/** A masked client text frame (RFC 6455), for a raw TCP client. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** A gateway's one-argument verifyClient that throws (on a missing header). */
@UseGuards(KeypairAuthGuard)
@WebSocketGateway({
  path: '/ws',
  verifyClient: (info: { req: { headers: Record<string, string> } }) => {
    if (!info.req.headers['x-tenant']) throw new Error('no tenant header');
    return true;
  },
})
class ThrowingVerifyClientGateway {
  @SubscribeMessage('ping') ping() {
    handled.push(Date.now());
    return { event: 'pong', data: 1 };
  }
}

/** A gateway guarded by RolesGuard alone (it reads the connection's context for every message). */
@UseGuards(RolesGuard)
@WebSocketGateway({ path: '/ws' })
class RolesGuardedGateway {
  @Roles('admin')
  @SubscribeMessage('purge')
  purge(@CurrentSecurityContext() c: SecurityContext) {
    handled.push(Date.now());
    return { event: 'purged', data: c.username };
  }
}

@UseGuards(KeypairAuthGuard)
@WebSocketGateway({ path: '/ws' })
class KeypairGuardedGateway {
  @Roles('admin')
  @SubscribeMessage('purge')
  purge(@CurrentSecurityContext() c: SecurityContext) {
    handled.push(Date.now());
    return { event: 'purged', data: c.username };
  }
}

/** A gateway's own asynchronous verifyClient (a tenant lookup, say) that takes 500 ms. */
@UseGuards(KeypairAuthGuard)
@WebSocketGateway({
  path: '/ws',
  verifyClient: (_info: unknown, done: (ok: boolean) => void) => setTimeout(() => done(true), 500),
})
class SlowVerifyClientGateway {
  @SubscribeMessage('whoami') whoami(@CurrentSecurityContext() c: SecurityContext) {
    handled.push(Date.now());
    return { event: 'whoami', data: c.toJSON() };
  }
}

@UseGuards(KeypairAuthGuard)
@WebSocketGateway({ namespace: '/chat' })
class ChatGateway {
  @SubscribeMessage('whoami') whoami(@CurrentSecurityContext() c: SecurityContext) {
    handled.push(Date.now());
    return { event: 'whoami', data: c.toJSON() };
  }
}

/** Two guarded gateways on one ws path, and two on socket.io's default namespace: both bind each connection. */
@UseGuards(KeypairAuthGuard)
@WebSocketGateway({ path: '/ws' })
class WsFirstGateway {
  @SubscribeMessage('first') first() {
    return { event: 'first', data: 'first' };
  }
}
@UseGuards(KeypairAuthGuard)
@WebSocketGateway({ path: '/ws' })
class WsSecondGateway {
  @SubscribeMessage('second') second() {
    return { event: 'second', data: 'second' };
  }
}
@UseGuards(KeypairAuthGuard)
@WebSocketGateway()
class IoFirstGateway {
  @SubscribeMessage('first') first() {
    return 'first';
  }
}
@UseGuards(KeypairAuthGuard)
@WebSocketGateway()
class IoSecondGateway {
  @SubscribeMessage('second') second() {
    return 'second';
  }
}

describe('WebSocket red team', () => {
  let t: RedTeamWsApp | undefined;
  beforeEach(() => {
    handled.length = 0;
  });
  afterEach(async () => {
    await t?.app.close();
    t = undefined;
  });

  it('red team 6: a signed upgrade to a gateway whose verifyClient throws is refused with a 4xx, no hang, no unhandled rejection', async () => {
    t = await startApp(ThrowingVerifyClientGateway, 'ws');
    const rejections: string[] = [];
    const onRejection = (reason: unknown) => void rejections.push(String(reason));
    process.on('unhandledRejection', onRejection);
    try {
      const url = `http://127.0.0.1:${t.port}/ws`;
      const socket = new WebSocket(url.replace('http', 'ws'), { headers: signedHeaders(url) });
      const outcome = await new Promise<string>((resolve) => {
        socket.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
        socket.once('open', () => resolve('open'));
        socket.once('error', (e) => resolve(`error ${e.message}`));
        setTimeout(() => resolve('no answer after 3 s'), 3000);
      });
      socket.terminate();
      await sleep(100);
      expect(outcome).toMatch(/^http 4\d\d$/);
      expect(rejections).toEqual([]);
      expect(handled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it.each([
    ['RolesGuard', RolesGuardedGateway],
    ['KeypairAuthGuard', KeypairGuardedGateway],
  ] as const)(
    'red team 6: %s runs no handler after the revocation close, for a client that does not answer the close frame',
    async (_name, gateway) => {
      t = await startApp(gateway, 'ws');
      const { port, registry } = t;
      const headers = signedHeaders(`http://127.0.0.1:${port}/ws`);
      const sock: Socket = tcp(port, '127.0.0.1');
      let received = Buffer.alloc(0);
      sock.on('data', (d) => (received = Buffer.concat([received, d])));
      sock.on('error', () => undefined);
      try {
        sock.write(
          `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
            Object.entries(headers)
              .map(([k, v]) => `${k}: ${v}\r\n`)
              .join('') +
            '\r\n',
        );
        await sleep(300);
        expect(received.toString('latin1')).toContain('101 Switching Protocols');
        sock.write(textFrame(JSON.stringify({ event: 'purge' })));
        await sleep(200);
        // Before the revocation the admin is served: the test can see a handler run.
        expect(handled).toHaveLength(1);
        expect(received.toString('latin1')).toContain('"purged"');

        const revokedAt = Date.now();
        await registry.revoke('alice-ed');
        await sleep(200);
        const closeAt = received.indexOf(Buffer.from([0x88]));
        for (let i = 0; i < 10; i++) {
          if (sock.destroyed) break;
          sock.write(textFrame(JSON.stringify({ event: 'purge' })));
          await sleep(100);
        }
        expect(closeAt).toBeGreaterThanOrEqual(0);
        expect(received.subarray(closeAt).toString('latin1')).not.toContain('"purged"');
        expect(handled.filter((at) => at >= revokedAt)).toEqual([]);
      } finally {
        sock.destroy();
      }
    },
  );

  it('red team 6: a key revoked while the gateway verifyClient completes the handshake is served no message', async () => {
    t = await startApp(SlowVerifyClientGateway, 'ws');
    const url = `http://127.0.0.1:${t.port}/ws`;
    const socket = new WebSocket(url.replace('http', 'ws'), { headers: signedHeaders(url) });
    const frames: string[] = [];
    socket.on('message', (raw) => frames.push(raw.toString()));
    socket.on('error', () => undefined);
    try {
      const outcome = new Promise<string>((resolve) => {
        socket.once('open', () => resolve('open'));
        socket.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
      });
      await sleep(250); // our authentication done, the gateway's own check still running
      await t.registry.revoke('alice-ed');
      expect(await outcome).toMatch(/^(open|http 4\d\d)$/);
      for (let i = 0; i < 5; i++) {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ event: 'whoami' }));
        await sleep(200);
      }
      expect(frames.filter((f) => f.includes('"whoami"'))).toEqual([]);
      expect(handled).toEqual([]);
      expect(socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING).toBe(true);
    } finally {
      socket.terminate();
    }
  });

  it('red team 6: a socket.io connection that joins a guarded namespace after its key was revoked runs no handler and gets no answer', async () => {
    t = await startApp(ChatGateway, 'socket.io', { keyCache: { ttlSeconds: 1 } }); // re-check period 250 ms
    const url = `http://127.0.0.1:${t.port}/socket.io/?EIO=4&transport=websocket`;
    const socket = new WebSocket(url.replace('http', 'ws'), { headers: signedHeaders(url) });
    const frames: string[] = [];
    socket.on('message', (raw) => {
      const text = raw.toString();
      if (text === '2') socket.send('3'); // engine.io ping: keep the connection alive
      frames.push(text);
    });
    socket.on('error', () => undefined);
    try {
      await new Promise((resolve) => socket.once('open', resolve));
      socket.send('40'); // the main namespace: no gateway there; keeps the engine connection open
      await sleep(200);
      await t.registry.revoke('alice-ed');
      await sleep(2000); // > keyCache.ttlSeconds (1 s) + the re-check period (250 ms)
      if (socket.readyState === WebSocket.OPEN) {
        socket.send('40/chat,');
        await sleep(50);
        socket.send('42/chat,["whoami"]');
      }
      await sleep(300);
      // Our `exception` frame (KEY_REVOKED) may be sent; a whoami answer must not.
      expect(frames.filter((f) => f.startsWith('42/chat,["whoami"'))).toEqual([]);
      const exceptions = frames.filter((f) => f.startsWith('42/chat,["exception"'));
      for (const frame of exceptions) expect(frame).toContain('KEY_REVOKED');
      expect(handled).toEqual([]);
    } finally {
      socket.terminate();
    }
  });

  it.each(['ws', 'socket.io'] as const)(
    'red team 7: two gateways on one %s path/namespace: an authenticated client is answered by both, no uncaught exception, the process stays up',
    async (adapter) => {
      const crashes: string[] = [];
      const onCrash = (error: unknown) => void crashes.push(String(error));
      process.on('uncaughtException', onCrash);
      process.on('unhandledRejection', onCrash);
      try {
        t = await startApp(
          adapter === 'ws' ? [WsFirstGateway, WsSecondGateway] : [IoFirstGateway, IoSecondGateway],
          adapter,
        );
        const answers: unknown[] = [];
        if (adapter === 'ws') {
          const url = `http://127.0.0.1:${t.port}/ws`;
          const socket = new WebSocket(url.replace('http', 'ws'), { headers: signedHeaders(url) });
          socket.on('message', (raw) => answers.push(JSON.parse(raw.toString())));
          socket.on('error', () => undefined);
          try {
            await new Promise((resolve, reject) => {
              socket.once('open', resolve);
              socket.once('unexpected-response', (_req, res) => reject(new Error(`http ${res.statusCode}`)));
            });
            socket.send(JSON.stringify({ event: 'first' }));
            socket.send(JSON.stringify({ event: 'second' }));
            await sleep(500);
            expect(socket.readyState).toBe(WebSocket.OPEN);
          } finally {
            socket.terminate();
          }
        } else {
          const url = `http://127.0.0.1:${t.port}/socket.io/?EIO=4&transport=websocket`;
          const client = io(`http://127.0.0.1:${t.port}`, {
            transports: ['websocket'],
            extraHeaders: signedHeaders(url),
            reconnection: false,
          });
          try {
            await new Promise<void>((resolve, reject) => {
              client.once('connect', resolve);
              client.once('connect_error', reject);
            });
            answers.push(await client.timeout(2000).emitWithAck('first', {}));
            answers.push(await client.timeout(2000).emitWithAck('second', {}));
            await sleep(300);
            expect(client.connected).toBe(true);
          } finally {
            client.close();
          }
        }
        expect(answers).toEqual(
          adapter === 'ws'
            ? [
                { event: 'first', data: 'first' },
                { event: 'second', data: 'second' },
              ]
            : ['first', 'second'],
        );
        await sleep(100);
        expect(crashes).toEqual([]);
      } finally {
        process.off('uncaughtException', onCrash);
        process.off('unhandledRejection', onCrash);
      }
    },
  );
});

describe.each(FLAVOURS)('WebSocket red team: a connection ended as it opens (%s)', (flavour) => {
  const server = serverKeys();
  const admin = testKey('ed25519', 0);
  let t: WsTestApp;
  beforeAll(async () => {
    t = await createWsTestApp({
      http: 'express',
      flavour,
      controllers: TOKEN_CONTROLLERS,
      options: { responseSigning: { keys: server.keys }, tokens: {} },
    });
    const alice = await t.addUser('alice', ['admin']);
    await t.registry.register(alice, admin.publicPem, { keyId: 'alice-admin' });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('red team 7: an access token whose exp passed within the clock skew is ended as it opens: no re-check timer or watched connection left, handleConnection never called', async () => {
    const login = await challengeLogin(t.server, 'alice-admin', admin.privateKey, 'ed25519');
    // Expired 5 s ago: within the default 20 s clock skew, so the handshake passes as a request would.
    const exp = Math.floor(Date.now() / 1000) - 5;
    const token = await resign(login.body.accessToken, server.current, {}, { exp });
    const connectionsBefore = seen.connections;
    const opened = await connect(t, { authorization: `Bearer ${token}` });
    if (opened.open) {
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        opened.client.closed,
        new Promise((resolve) => (timer = setTimeout(() => resolve('not closed'), 2000))),
      ]);
      clearTimeout(timer);
      expect(closed).toMatchObject({ code: 4401, reason: expect.stringContaining('TOKEN_EXPIRED') });
      opened.client.close();
    } else {
      expect(opened.status).toBe(401);
    }
    await sleep(300);
    const adapter = (
      t.app as unknown as {
        config: { getIoAdapter(): { auth?: { lifetime: { size: number; timer?: unknown } } } };
      }
    ).config.getIoAdapter();
    expect(adapter.auth!.lifetime.size).toBe(0);
    expect(adapter.auth!.lifetime.timer).toBeUndefined();
    expect(seen.connections - connectionsBefore).toBe(0);
  }, 30_000);
});
