import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AUTH_ERROR_CODES,
  dataSourceOptionsFromUrl,
  KEYPAIR_AUTH_OPTIONS,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  MemoryReplayStore,
  REPLAY_STORE,
} from '../../src';

const typeorm = () =>
  TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true });

describe('KeypairAuthModule startup', () => {
  const env = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = env;
  });

  it('refuses bad options at startup with the fix in the message', async () => {
    const build = Test.createTestingModule({
      imports: [typeorm(), KeypairAuthModule.forRoot({ clockSkewSeconds: 900 })],
    });
    await expect(build.compile()).rejects.toThrow(/clockSkewSeconds must be a number from 0 to 300/);
  });

  it('refuses the in-memory replay store when NODE_ENV=production, unless allowed', async () => {
    process.env.NODE_ENV = 'production';
    const origin = 'https://api.example.test';
    await expect(
      Test.createTestingModule({ imports: [typeorm(), KeypairAuthModule.forRoot({ origin })] }).compile(),
    ).rejects.toThrow(/NODE_ENV=production but no replayStore.*allowInMemoryStoresInProduction/s);
    const ok = await Test.createTestingModule({
      imports: [typeorm(), KeypairAuthModule.forRoot({ origin, allowInMemoryStoresInProduction: true })],
    }).compile();
    expect(ok.get(REPLAY_STORE)).toBeInstanceOf(MemoryReplayStore);
    await ok.close();
  });

  it('refuses to start without origin when NODE_ENV=production, unless allowHostHeaderAuthority', async () => {
    process.env.NODE_ENV = 'production';
    const build = (options: KeypairAuthModuleOptions) =>
      Test.createTestingModule({
        imports: [
          typeorm(),
          KeypairAuthModule.forRoot({ allowInMemoryStoresInProduction: true, ...options }),
        ],
      }).compile();
    await expect(build({})).rejects.toThrow(
      /NODE_ENV=production but origin is not set.*Set origin: 'https:\/\/api\.example\.com'.*allowHostHeaderAuthority: true/s,
    );
    await expect(build({ allowHostHeaderAuthority: 'yes' as never })).rejects.toThrow(
      /allowHostHeaderAuthority must be true or false/,
    );
    const allowed = await build({ allowHostHeaderAuthority: true });
    expect(allowed.get(KEYPAIR_AUTH_OPTIONS).origin).toBeNull();
    await allowed.close();
    process.env.NODE_ENV = 'development';
    await (await build({})).close();
  });

  it('says how to provide a DataSource when there is none', async () => {
    await expect(
      Test.createTestingModule({ imports: [KeypairAuthModule.forRoot()] }).compile(),
    ).rejects.toThrow(/no TypeORM DataSource.*TypeOrmModule\.forRoot.*KEYPAIR_AUTH_ENTITIES/s);
  });

  it('builds from forRootAsync', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        typeorm(),
        KeypairAuthModule.forRootAsync({
          useFactory: async () => ({ clockSkewSeconds: 10 }),
          adminApi: true,
        }),
      ],
    }).compile();
    expect(moduleRef.get(REPLAY_STORE)).toBeInstanceOf(MemoryReplayStore);
    await moduleRef.close();
  });

  it('documents every error code in the table of docs/errors.md', () => {
    const page = readFileSync(join(__dirname, '../../docs/errors.md'), 'utf8');
    const table = /<!-- error-codes:begin -->([\s\S]*?)<!-- error-codes:end -->/.exec(page)?.[1] ?? '';
    for (const [code, { status }] of Object.entries(AUTH_ERROR_CODES)) {
      expect(table).toContain(`| \`${code}\` | ${status} |`);
    }
  });
});
