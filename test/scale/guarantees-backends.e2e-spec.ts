import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { dataSourceOptionsFromUrl, KeypairAuthModule, KeypairAuthModuleOptions, PublicKey } from '../../src';
import { createRedisClient, RedisClient, RedisReplayStore } from '../../src/redis';
import { haveService } from '../setup/services';
import { jwtHeader } from '../support/auth';
import { testKey, TestKeyPair } from '../support/keys';
import { ProbeController } from '../support/probe.controller';
import { freePort } from '../support/processes';
import { TcpProxy } from '../support/tcp-proxy';
import { createTestApp, TestApp } from '../support/test-app';

const describeIfRedis = haveService('redis') ? describe : describe.skip;
const describeIfPostgres = haveService('postgres') ? describe : describe.skip;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const whoami = async (server: string, key: TestKeyPair, username: string, kid: string) => {
  const res = await request(server)
    .get('/probe/whoami')
    .set('Authorization', await jwtHeader(key.privateKey, username, kid))
    .timeout(10_000);
  return [res.status, res.body.code ?? res.body.username];
};

describeIfPostgres(
  'the key database alone goes away (memory replay store, PostgreSQL behind a proxy)',
  () => {
    let proxy: TcpProxy;
    let t: TestApp;
    const cached = testKey('ed25519', 1);
    const uncached = testKey('ed25519', 2);

    beforeAll(async () => {
      proxy = new TcpProxy('127.0.0.1', 5432);
      const port = await proxy.up();
      t = await createTestApp({
        adapter: 'fastify',
        database: 'postgres',
        connectVia: (url) => url.replace('127.0.0.1:5432', `127.0.0.1:${port}`),
      });
      await t.registry.register(await t.addUser('bob', ['reader']), cached.publicPem, { keyId: 'b1' });
      await t.registry.register(await t.addUser('carl', ['reader']), uncached.publicPem, { keyId: 'c1' });
    });
    afterAll(async () => {
      await proxy.up();
      await t?.close();
      await proxy.down();
    });

    it('a cached key keeps working; an uncached one gets 503 AUTH_BACKEND_UNAVAILABLE, never a pass', async () => {
      expect(await whoami(t.server, cached, 'bob', 'b1')).toEqual([200, 'bob']); // now in the key cache
      await proxy.down();
      for (let i = 0; i < 3; i++) {
        expect(await whoami(t.server, cached, 'bob', 'b1')).toEqual([200, 'bob']);
        expect(await whoami(t.server, uncached, 'carl', 'c1')).toEqual([503, 'AUTH_BACKEND_UNAVAILABLE']);
      }
      await proxy.up();
    });
  },
);

describeIfRedis('a full Redis (maxmemory 1mb, noeviction; a redis-server of the test’s own)', () => {
  let redisServer: ChildProcess;
  let redis: RedisClient;
  let t: TestApp;
  const key = testKey('ed25519', 0);

  beforeAll(async () => {
    const port = await freePort();
    redisServer = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...['--maxmemory', '1mb', '--maxmemory-policy', 'noeviction'],
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; ; i++) {
      try {
        if (execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).trim() === 'PONG')
          break;
      } catch {
        if (i > 100) throw new Error('redis-server did not start');
      }
      await sleep(50);
    }
    redis = createRedisClient(`redis://127.0.0.1:${port}`);
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: { replayStore: new RedisReplayStore(redis) },
    });
    await t.registry.register(await t.addUser('alice', ['reader']), key.publicPem, { keyId: 'a1' });
  });
  afterAll(async () => {
    await t?.close();
    redis?.disconnect();
    redisServer?.kill();
  });

  it('a new nonce gets 503 AUTH_BACKEND_UNAVAILABLE once Redis refuses writes, never a pass', async () => {
    expect(await whoami(t.server, key, 'alice', 'a1')).toEqual([200, 'alice']);
    // Fill it, with ever smaller values, until even a tiny write is refused (OOM): only then is
    // used_memory above maxmemory for good (a big value's query buffer alone can trip the limit).
    let refused = false;
    for (const size of [16 * 1024, 1024, 16]) {
      refused = false;
      for (let i = 0; i < 5000 && !refused; i++) {
        refused = await redis.set(`fill:${size}:${i}`, 'x'.repeat(size)).then(
          () => false,
          (error: Error) => /OOM/.test(error.message),
        );
      }
    }
    expect(refused).toBe(true);
    // Keep it full: memory freed after the fill (client buffers) would let a small write through
    // again, which is Redis accepting it, not us passing a refusal. Half of what is used stays full.
    const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    expect(used).toBeGreaterThan(0);
    await redis.config('SET', 'maxmemory', String(Math.floor(used / 2)));
    expect(
      await redis.set('probe', 'x').then(
        () => 'stored',
        (error: Error) => error.message,
      ),
    ).toMatch(/OOM/);
    for (let i = 0; i < 3; i++)
      expect(await whoami(t.server, key, 'alice', 'a1')).toEqual([503, 'AUTH_BACKEND_UNAVAILABLE']);
  });
});

/**
 * The documented bound without a cacheInvalidation bus: another instance sees a revoked
 * key or a deactivated account within keyCache.ttlSeconds (here 1 s). Two apps on one
 * PostgreSQL database; every change is made through A (or straight in SQL, as the CLI
 * or another service would), every check on B.
 */
describeIfPostgres('revocation seen by a second instance within keyCache.ttlSeconds, no bus', () => {
  const options: KeypairAuthModuleOptions = { keyCache: { ttlSeconds: 1 } };
  const keys = {
    revoked: testKey('ed25519', 3),
    sql: testKey('ed25519', 4),
    inactive: testKey('ed25519', 5),
  };
  let a: TestApp;
  let b: INestApplication;
  let bUrl: string;

  beforeAll(async () => {
    a = await createTestApp({ adapter: 'express', database: 'postgres', options });
    const url = (a.dataSource.options as { url: string }).url;
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl(url), migrationsRun: true }),
        KeypairAuthModule.forRoot(options),
      ],
      controllers: [ProbeController],
    }).compile();
    b = moduleRef.createNestApplication({ rawBody: true, logger: false });
    await b.listen(0, '127.0.0.1');
    bUrl = `http://127.0.0.1:${(b.getHttpServer().address() as { port: number }).port}`;
    for (const [name, key] of Object.entries(keys))
      await a.registry.register(await a.addUser(name, ['reader']), key.publicPem, { keyId: `${name}-1` });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** B caches the credential, `change` runs, and B must refuse it with `code` once 1.1 s have passed. */
  async function seenWithinBound(name: keyof typeof keys, code: string, change: () => Promise<unknown>) {
    expect(await whoami(bUrl, keys[name], name, `${name}-1`)).toEqual([200, name]);
    const cachedAt = Date.now();
    await change();
    await sleep(Math.max(0, cachedAt + 1100 - Date.now()));
    expect(await whoami(bUrl, keys[name], name, `${name}-1`)).toEqual([401, code]);
  }

  it('a key revoked through A (KeyRegistry.revoke) is KEY_REVOKED on B within 1.1 s', async () => {
    await seenWithinBound('revoked', 'KEY_REVOKED', () => a.registry.revoke('revoked-1'));
    expect(await whoami(a.server, keys.revoked, 'revoked', 'revoked-1')).toEqual([401, 'KEY_REVOKED']);
  });

  it('a key revoked in SQL (another process) is KEY_REVOKED on B within 1.1 s', async () => {
    await seenWithinBound('sql', 'KEY_REVOKED', () =>
      a.dataSource.getRepository(PublicKey).update({ keyId: 'sql-1' }, { revokedAt: new Date() }),
    );
  });

  it('an account deactivated through A is USER_INACTIVE on B within 1.1 s', async () => {
    await seenWithinBound('inactive', 'USER_INACTIVE', async () => {
      const user = await a.registry.directory.findByUsername('inactive');
      await a.registry.directory.setActive!(user!.id, false);
      a.registry.forgetUser(user!.id);
    });
  });
});
