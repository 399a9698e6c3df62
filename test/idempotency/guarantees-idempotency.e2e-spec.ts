import { randomUUID } from 'node:crypto';
import { Controller, Get, HttpCode, Options, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  dataSourceOptionsFromUrl,
  IDEMPOTENCY_STORE,
  Idempotent,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  MemoryIdempotencyStore,
  TypeOrmReplayStore,
} from '../../src';
import { ADAPTERS } from '../support/test-app';
import { createIdempotencyApp, IdempotencyApp, send, sfString } from './support/idempotency-app';
import {
  CounterEndpoint,
  IdempotencyProbeController,
  PaymentEndpoint,
  RUNS,
} from './support/idempotency-probe.controller';

/** `@Idempotent()` on the whole controller: the writes need a key, the safe methods pass through. */
@Controller('gidem')
@Idempotent()
class WholeControllerIdempotent {
  @Get('read')
  read(): { n: number } {
    return { n: (RUNS.read = (RUNS.read ?? 0) + 1) };
  }

  @Options('read')
  @HttpCode(204)
  options(): void {
    RUNS.options = (RUNS.options ?? 0) + 1;
  }

  @Post('write')
  @HttpCode(200)
  write(): { n: number } {
    return { n: (RUNS.write = (RUNS.write ?? 0) + 1) };
  }
}

describe.each(ADAPTERS)('idempotency guarantees on %s', (adapter) => {
  let t: IdempotencyApp;

  beforeAll(async () => {
    t = await createIdempotencyApp({
      adapter,
      database: 'sqlite',
      controllers: [WholeControllerIdempotent, IdempotencyProbeController],
      providers: [CounterEndpoint, PaymentEndpoint],
    });
  });
  afterAll(() => t?.close());
  beforeEach(() => {
    for (const name of Object.keys(RUNS)) delete RUNS[name];
  });

  const call = async (method: string, path: string, key: string | null) =>
    send(`${t.server}/${path}`, {
      method,
      headers: {
        authorization: await t.auth('alice'),
        ...(key === null ? {} : { 'idempotency-key': sfString(key) }),
      },
    });

  it('safe methods (GET, HEAD, OPTIONS) pass through: no key needed, nothing stored, the handler runs each time', async () => {
    for (const key of [null, randomUUID()]) {
      for (const method of ['GET', 'HEAD', 'OPTIONS']) {
        const first = await call(method, 'gidem/read', key);
        const again = await call(method, 'gidem/read', key);
        expect([first.status, again.status]).toEqual(method === 'OPTIONS' ? [204, 204] : [200, 200]);
        expect(again.headers.get('idempotent-replayed')).toBeNull();
      }
    }
    // HEAD runs the GET handler (both adapters route it there).
    expect(RUNS).toMatchObject({ read: 8, options: 4 });
    // Control: the controller-level decorator is in force for its write.
    const write = await call('POST', 'gidem/write', null);
    expect([write.status, write.body.code]).toEqual([400, 'IDEMPOTENCY_KEY_MISSING']);
  });

  it.each([408, 425])(
    'a %s (try again) is not stored: the lock is released and a retry with the key runs the handler',
    async (status) => {
      const key = randomUUID();
      const first = await call('POST', `idem/fail/${status}`, key);
      const again = await call('POST', `idem/fail/${status}`, key);
      expect([first.status, again.status]).toEqual([status, status]);
      expect(again.headers.get('idempotent-replayed')).toBeNull();
      expect(RUNS[`fail-${status}`]).toBe(2);
    },
  );
});

describe('MemoryIdempotencyStore under NODE_ENV=production', () => {
  const env = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = env;
  });

  /** A production-ready configuration except for the idempotency store (a durable replay store, an origin). */
  const build = (extra: KeypairAuthModuleOptions) =>
    Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl('sqlite::memory:'), migrationsRun: true }),
        KeypairAuthModule.forRootAsync({
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({
            origin: 'https://api.example.test',
            replayStore: new TypeOrmReplayStore(dataSource),
            idempotency: { store: new MemoryIdempotencyStore() },
            ...extra,
          }),
        }),
      ],
    }).compile();

  it('is refused at startup with the fix in the message, unless allowInMemoryStoresInProduction', async () => {
    process.env.NODE_ENV = 'production';
    await expect(build({})).rejects.toThrow(
      /NODE_ENV=production but idempotency\.store is a MemoryIdempotencyStore.*allowInMemoryStoresInProduction: true/s,
    );
    const allowed = await build({ allowInMemoryStoresInProduction: true });
    expect(allowed.get(IDEMPOTENCY_STORE)).toBeInstanceOf(MemoryIdempotencyStore);
    await allowed.close();
  });
});
