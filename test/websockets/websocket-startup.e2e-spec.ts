import { WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptionsFromUrl, KeypairAuthModule } from '../../src';
import { KeypairAuthWsAdapter } from '../../src/websockets';
import { createTestDatabase } from '../support/test-database';

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
