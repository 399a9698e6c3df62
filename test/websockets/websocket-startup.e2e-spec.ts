import type { IncomingMessage } from 'node:http';
import { UseGuards } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptionsFromUrl, KeypairAuthGuard, KeypairAuthModule, KeyRegistry } from '../../src';
import { signRequest } from '../../src/client';
import { KeypairAuthWsAdapter } from '../../src/websockets';
import { testKey } from '../support/keys';
import { createTestDatabase } from '../support/test-database';
import { upgradeAnswer } from './websocket-test-app';

@WebSocketGateway({ path: '/ws' })
class PlainGateway {}

async function start(gateway: new () => object, withModule = true): Promise<void> {
  const database = await createTestDatabase('sqlite');
  const moduleRef = await Test.createTestingModule({
    imports: withModule
      ? [
          TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl(database.url), migrationsRun: true }),
          KeypairAuthModule.forRoot({}),
        ]
      : [],
    providers: [gateway],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.useWebSocketAdapter(new KeypairAuthWsAdapter(app));
  try {
    await app.init();
  } finally {
    await app.close().catch(() => undefined);
    await database.drop();
  }
}

describe('KeypairAuthWsAdapter at startup', () => {
  it('refuses to start without KeypairAuthModule, naming the fix', async () => {
    await expect(start(PlainGateway, false)).rejects.toThrow(/found no KeypairAuthModule in the app/);
  });
});

/** A gateway with a check of its own (ws's one-argument verifyClient): it runs after the authentication. */
@UseGuards(KeypairAuthGuard)
@WebSocketGateway({
  path: '/ws',
  verifyClient: (info: { req: IncomingMessage }) => info.req.headers['x-tenant'] === 'acme',
})
class OwnCheckGateway {}

describe("KeypairAuthWsAdapter and a gateway's own verifyClient", () => {
  it('runs it after the authentication: unsigned is 401 from us, signed without its header is refused by it, signed with it opens', async () => {
    const key = testKey('ed25519', 0);
    const database = await createTestDatabase('sqlite');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl(database.url), migrationsRun: true }),
        KeypairAuthModule.forRoot({}),
      ],
      providers: [OwnCheckGateway],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.useWebSocketAdapter(new KeypairAuthWsAdapter(app));
    await app.listen(0, '127.0.0.1');
    try {
      const registry = app.get(KeyRegistry);
      await registry.register(await registry.directory.create!('alice', ['reader']), key.publicPem, {
        keyId: 'alice-ed',
      });
      const port = (app.getHttpServer().address() as { port: number }).port;
      const url = `http://127.0.0.1:${port}/ws`;
      const signed = () =>
        signRequest({ method: 'GET', url }, { keyId: 'alice-ed', privateKey: key.privateKey }).headers;
      const unsigned = await upgradeAnswer({ port }, '/ws', { 'x-tenant': 'acme' });
      expect([unsigned.status, unsigned.body.code]).toEqual([401, 'CREDENTIALS_MISSING']);
      expect((await upgradeAnswer({ port }, '/ws', signed())).status).toBe(401);
      expect((await upgradeAnswer({ port }, '/ws', { ...signed(), 'x-tenant': 'acme' })).status).toBe(101);
    } finally {
      await app.close();
      await database.drop();
    }
  });
});
