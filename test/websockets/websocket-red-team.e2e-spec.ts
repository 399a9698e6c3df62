import { randomBytes } from 'node:crypto';
import { connect as tcp, Socket } from 'node:net';
import { INestApplication, Type, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
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

/**
 * Regression tests for the red-team findings of issue 17 on WebSockets: a gateway's own
 * verifyClient that throws, messages after a revocation close the client does not answer,
 * a revocation while the handshake completes, and a socket.io connection that joins a
 * guarded namespace after its key was revoked.
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
  gateway: Type<unknown>,
  adapter: 'ws' | 'socket.io',
  options: KeypairAuthModuleOptions = {},
): Promise<RedTeamWsApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
      KeypairAuthModule.forRoot(options),
    ],
    providers: [gateway],
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
});
