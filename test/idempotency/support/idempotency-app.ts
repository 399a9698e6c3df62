import { INestApplication, Type } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TransfersModule, withTransferTables } from '../../../demo/transfers';
import { dataSourceOptionsFromUrl, IdempotencyOptions, KeypairAuthModule, KeyRegistry } from '../../../src';
import { testKey } from '../../support/keys';
import { AdapterName, CapturingLogger } from '../../support/test-app';
import { createTestDatabase, DatabaseKind } from '../../support/test-database';
import { jwtHeader } from '../../support/auth';

export interface IdempotencyApp {
  app: INestApplication;
  server: string;
  dataSource: DataSource;
  logs: CapturingLogger;
  /** A fresh `JWT …` Authorization value (new nonce) for alice or bob. */
  auth(user: 'alice' | 'bob'): Promise<string>;
  close(): Promise<void>;
}

export const USERS = { alice: { key: testKey('ed25519', 0) }, bob: { key: testKey('ed25519', 1) } } as const;

/**
 * The real KeypairAuthModule (global guard) with the demo's TransfersModule (fault
 * injection on) and extra controllers, on a fresh database, over real HTTP.
 */
export async function createIdempotencyApp(config: {
  adapter: AdapterName;
  database: DatabaseKind;
  idempotency?: IdempotencyOptions;
  controllers?: Type[];
  providers?: Type[];
}): Promise<IdempotencyApp> {
  const database = await createTestDatabase(config.database);
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(
        withTransferTables({ ...dataSourceOptionsFromUrl(database.url), migrationsRun: true }),
      ),
      KeypairAuthModule.forRoot({ idempotency: config.idempotency, globalGuard: true }),
      TransfersModule.forRoot({ faultInjection: true }),
    ],
    controllers: config.controllers ?? [],
    providers: config.providers ?? [],
  }).compile();
  const logs = new CapturingLogger();
  moduleRef.useLogger(logs);
  const app =
    config.adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true })
      : moduleRef.createNestApplication({ rawBody: true });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const registry = app.get(KeyRegistry);
  for (const [name, { key }] of Object.entries(USERS)) {
    const user = await registry.directory.create!(name, ['writer']);
    await registry.register(user, key.publicPem, { keyId: `${name}-key` });
  }
  return {
    app,
    server: `http://127.0.0.1:${port}`,
    dataSource: app.get(DataSource),
    logs,
    auth: (user) => jwtHeader(USERS[user].key.privateKey, user, `${user}-key`),
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

/** One request with fetch; the body parsed when it is JSON. */
export async function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string } = {},
): Promise<Answer> {
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const res = await fetch(url, {
    method: init.method ?? 'POST',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body,
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = {};
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** `"…"`: an Idempotency-Key as the structured-field String the draft asks for. */
export const sfString = (key: string): string => `"${key.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
