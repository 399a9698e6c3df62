import { request as httpRequest } from 'node:http';
import { INestApplication, Type, UseGuards } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { io, Socket as IoClient } from 'socket.io-client';
import { DataSource } from 'typeorm';
import WebSocket from 'ws';
import {
  AuthUser,
  CurrentSecurityContext,
  dataSourceOptionsFromUrl,
  KeypairAuthGuard,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  KeyRegistry,
  Roles,
  SecurityContext,
} from '../../src';
import { KeypairAuthWsAdapter } from '../../src/websockets';
import { KeypairAuthIoAdapter } from '../../src/websockets/socket-io';
import { CapturingLogger } from '../support/test-app';
import type { AdapterName } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';

export type WsFlavour = 'ws' | 'socket.io';
export const FLAVOURS: WsFlavour[] = ['ws', 'socket.io'];

/** What the gateways saw: connections that reached handleConnection, messages that reached a handler. */
export const seen = { connections: 0, handled: [] as string[] };

/** The messages of both gateways: who am I, an admin-only one, and an attempt to swap the context. */
abstract class ProbeGateway implements OnGatewayConnection {
  handleConnection(): void {
    seen.connections++;
  }

  @SubscribeMessage('whoami')
  whoami(@CurrentSecurityContext() context: SecurityContext) {
    seen.handled.push('whoami');
    return { event: 'whoami', data: { ...context.toJSON(), expiresAt: context.expiresAt } };
  }

  @Roles('admin')
  @SubscribeMessage('admin')
  admin(@CurrentSecurityContext() context: SecurityContext) {
    seen.handled.push('admin');
    return { event: 'admin', data: { ok: true, username: context.username } };
  }

  @SubscribeMessage('swap')
  swap(@ConnectedSocket() client: Record<string, unknown>, @MessageBody() _body: unknown) {
    let error: string | null = null;
    try {
      client.securityContext = { username: 'mallory' };
    } catch (e) {
      error = (e as Error).name;
    }
    const context = client.securityContext as SecurityContext;
    return { event: 'swap', data: { username: context.username, error } };
  }
}

@UseGuards(KeypairAuthGuard)
@WebSocketGateway({ path: '/ws' })
export class WsProbeGateway extends ProbeGateway {}

@UseGuards(KeypairAuthGuard)
@WebSocketGateway()
export class IoProbeGateway extends ProbeGateway {}

export interface WsTestApp {
  app: INestApplication;
  flavour: WsFlavour;
  /** http://127.0.0.1:port */
  server: string;
  port: number;
  registry: KeyRegistry;
  dataSource: DataSource;
  logs: CapturingLogger;
  /** The URL a client signs for a handshake (ws: /ws; socket.io: its websocket handshake URL). */
  handshakeUrl: string;
  addUser(username: string, roles: string[]): Promise<AuthUser>;
  close(): Promise<void>;
}

export interface WsTestAppOptions {
  http: AdapterName;
  flavour: WsFlavour;
  options?: KeypairAuthModuleOptions;
  controllers?: Type[];
  recheckIntervalMs?: number;
  /** A logger to share with another app (the attack corpus checks one logger per environment). */
  logs?: CapturingLogger;
  /** keyCache invalidations shared with other instances (e.g. a RedisCacheInvalidationBus). */
  cacheInvalidation?: KeypairAuthModuleOptions['cacheInvalidation'];
}

/** The real module, a real gateway on the app's HTTP server, the adapter under test. */
export async function createWsTestApp(config: WsTestAppOptions): Promise<WsTestApp> {
  const database = await createTestDatabase('sqlite');
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl(database.url), migrationsRun: true }),
      KeypairAuthModule.forRootAsync({
        useFactory: () => ({ ...config.options, cacheInvalidation: config.cacheInvalidation }),
        adminApi: true,
      }),
    ],
    controllers: config.controllers ?? [],
    providers: [config.flavour === 'ws' ? WsProbeGateway : IoProbeGateway],
  }).compile();
  const logs = config.logs ?? new CapturingLogger();
  moduleRef.useLogger(logs);
  const app =
    config.http === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true })
      : moduleRef.createNestApplication({ rawBody: true });
  const authOptions = { recheckIntervalMs: config.recheckIntervalMs };
  app.useWebSocketAdapter(
    config.flavour === 'ws'
      ? new KeypairAuthWsAdapter(app, authOptions)
      : new KeypairAuthIoAdapter(app, authOptions),
  );
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  const server = `http://127.0.0.1:${port}`;
  const registry = app.get(KeyRegistry);
  return {
    app,
    flavour: config.flavour,
    server,
    port,
    registry,
    dataSource: app.get(DataSource),
    logs,
    handshakeUrl: config.flavour === 'ws' ? `${server}/ws` : `${server}/socket.io/?EIO=4&transport=websocket`,
    addUser: (username, roles) => registry.directory.create!(username, roles),
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

/** A handshake's answer: open (with a client to talk through), or refused with an HTTP status and body. */
export type Opened =
  | { open: true; client: WsClient }
  | { open: false; status: number; body: Record<string, unknown>; headers: Record<string, string> };

/** One client API over both flavours: send an event, await the next answer of an event, await the close. */
export interface WsClient {
  request(event: string, data?: unknown): Promise<{ event: string; data: Record<string, unknown> }>;
  /** Resolves when the server ends the connection: the close code and reason (socket.io: from the `exception` event). */
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  close(): void;
}

/**
 * Opens a connection with `headers` on the handshake, with the real client of the flavour
 * (`ws`, socket.io-client with the websocket transport). A refusal is read from the HTTP
 * answer to the upgrade request.
 */
export function connect(
  t: WsTestApp,
  headers: Record<string, string>,
  extra: { query?: string; auth?: Record<string, unknown> } = {},
): Promise<Opened> {
  return t.flavour === 'ws' ? connectWs(t, headers, extra.query) : connectIo(t, headers, extra);
}

function connectWs(t: WsTestApp, headers: Record<string, string>, query = ''): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${t.port}/ws${query}`, { headers });
    socket.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        socket.terminate();
        resolve({
          open: false,
          status: res.statusCode ?? 0,
          body: parse(text),
          headers: res.headers as never,
        });
      });
    });
    socket.once('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error);
    });
    socket.once('open', () => {
      const closed = new Promise<{ code: number; reason: string; at: number }>((done) =>
        socket.once('close', (code, reason) => done({ code, reason: reason.toString(), at: Date.now() })),
      );
      const waiters: ((message: { event: string; data: Record<string, unknown> }) => void)[] = [];
      socket.on('message', (raw) => waiters.shift()?.(JSON.parse(raw.toString())));
      resolve({
        open: true,
        client: {
          request: (event, data) =>
            new Promise((answer) => {
              waiters.push(answer);
              socket.send(JSON.stringify({ event, data }));
            }),
          closed,
          close: () => socket.close(),
        },
      });
    });
  });
}

function connectIo(
  t: WsTestApp,
  headers: Record<string, string>,
  extra: { query?: string; auth?: Record<string, unknown> },
): Promise<Opened> {
  return new Promise((resolve) => {
    const socket: IoClient = io(t.server, {
      transports: ['websocket'],
      extraHeaders: headers,
      reconnection: false,
      forceNew: true,
      auth: extra.auth,
      query: extra.query ? Object.fromEntries(new URLSearchParams(extra.query)) : undefined,
    });
    socket.once('connect_error', () => {
      socket.close();
      // The client sees only "websocket error": the same request, raw, shows the server's answer.
      void upgradeAnswer(t, '/socket.io/?EIO=4&transport=websocket', headers).then((answer) =>
        resolve({ open: false, ...answer }),
      );
    });
    socket.once('connect', () => {
      let ended: { code: number; reason: string } | undefined;
      const waiters = new Map<string, ((data: Record<string, unknown>) => void)[]>();
      const closed = new Promise<{ code: number; reason: string; at: number }>((done) =>
        socket.once('disconnect', (reason) =>
          done({ code: ended?.code ?? 0, reason: ended?.reason ?? reason, at: Date.now() }),
        ),
      );
      socket.onAny((event: string, data: Record<string, unknown>) => {
        if (event === 'exception' && typeof data?.closeCode === 'number') {
          ended = { code: data.closeCode, reason: String(data.code) };
        }
        const queue = waiters.get(event) ?? waiters.get('*');
        const next = queue?.shift();
        next?.(data);
      });
      resolve({
        open: true,
        client: {
          request: (event, data) =>
            new Promise((answer) => {
              // The answer is the event of the same name, or an `exception`.
              const done = (name: string) => (payload: Record<string, unknown>) => {
                remove();
                answer({ event: name, data: payload });
              };
              const mine = done(event);
              const exception = done('exception');
              const remove = () => {
                waiters.set(
                  event,
                  (waiters.get(event) ?? []).filter((w) => w !== mine),
                );
                waiters.set(
                  'exception',
                  (waiters.get('exception') ?? []).filter((w) => w !== exception),
                );
              };
              waiters.set(event, [...(waiters.get(event) ?? []), mine]);
              waiters.set('exception', [...(waiters.get('exception') ?? []), exception]);
              socket.emit(event, data);
            }),
          closed,
          close: () => socket.close(),
        },
      });
    });
  });
}

/** Sends a WebSocket upgrade request for `path` with `headers` and reads the HTTP answer. */
export function upgradeAnswer(
  t: { port: number },
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1',
      port: t.port,
      path,
      method,
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: {}, headers: res.headers as never });
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: parse(text), headers: res.headers as never }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** A plain GET (socket.io's polling transport) and its answer. */
export function pollingAnswer(
  t: { port: number },
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: t.port, path, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function parse(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { text };
  }
}
