import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import request from 'supertest';
import { createRedisClient, RedisClient, RedisReplayStore } from '../../src/redis';
import { haveService } from '../setup/services';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { freePort } from '../support/processes';
import { TcpProxy } from '../support/tcp-proxy';
import { createTestApp, TestApp } from '../support/test-app';

type Outcome = { at: number; status: number; code?: string };

/** Sends fresh, valid JWT requests with a few in flight until stopped; records every outcome. */
function load(t: TestApp, key: ReturnType<typeof testKey>, username: string, kid: string) {
  const outcomes: Outcome[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      const res = await request(t.server)
        .get('/probe/whoami')
        .set({ Authorization: await jwtHeader(key.privateKey, username, kid) })
        .timeout(10_000)
        .catch((error: Error) => ({ status: -1, body: { code: error.message } }));
      outcomes.push({ at: Date.now(), status: res.status, code: (res.body as { code?: string }).code });
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    outcomes,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return Date.now() - started;
    await sleep(50);
  }
  throw new Error(`not recovered within ${ms} ms`);
}

const describeIfRedis = haveService('redis') ? describe : describe.skip;
const describeIfPostgres = haveService('postgres') ? describe : describe.skip;

describeIfRedis('Redis goes away under load (a Redis of the test’s own)', () => {
  let port: number;
  let redisServer: ChildProcess;
  let redis: RedisClient;
  let t: TestApp;
  const key = testKey('ed25519', 0);

  const startRedis = async () => {
    redisServer = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await until(async () => {
      try {
        return (
          execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).trim() === 'PONG'
        );
      } catch {
        return false;
      }
    }, 5000);
  };

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
    redis = createRedisClient(`redis://127.0.0.1:${port}`);
    t = await createTestApp({
      adapter: 'fastify',
      database: 'sqlite',
      options: { replayStore: new RedisReplayStore(redis) },
    });
    const user = await t.addUser('alice', ['reader']);
    await t.registry.register(user, key.publicPem, { keyId: 'a1' });
  });
  afterAll(async () => {
    await t?.close();
    redis?.disconnect();
    redisServer?.kill('SIGKILL');
  });

  it('refuses with 503 while Redis is down (never a 200, never a 500), and recovers by itself', async () => {
    const run = load(t, key, 'alice', 'a1');
    await until(async () => run.outcomes.some((o) => o.status === 200), 15_000);
    await sleep(200);
    execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
    const down = Date.now();
    await new Promise((r) => redisServer.once('exit', r));
    await sleep(1500);
    const restart = Date.now();
    await startRedis();
    const recoveredIn = await until(
      async () => run.outcomes.some((o) => o.at > restart && o.status === 200),
      10_000,
    );
    await run.stop();

    const before = run.outcomes.filter((o) => o.at < down);
    const during = run.outcomes.filter((o) => o.at > down + 200 && o.at < restart);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((o) => o.status === 200)).toBe(true);
    expect(during.length).toBeGreaterThan(0);
    expect(new Set(during.map((o) => `${o.status} ${o.code}`))).toEqual(
      new Set(['503 AUTH_BACKEND_UNAVAILABLE']),
    );
    expect(run.outcomes.every((o) => o.status === 200 || o.status === 503)).toBe(true);
    console.log(
      `redis fault: ${before.length} ok before, ${during.length} refused (503) while down, recovered ${recoveredIn} ms after restart`,
    );
  });
});

describeIfPostgres('the database goes away under load (through a proxy of the test’s own)', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  const key = testKey('ed25519', 1);

  beforeAll(async () => {
    proxy = new TcpProxy('127.0.0.1', 5432);
    const port = await proxy.up();
    t = await createTestApp({
      adapter: 'express',
      database: 'postgres',
      typeormReplayStore: true,
      connectVia: (url) => url.replace('127.0.0.1:5432', `127.0.0.1:${port}`),
    });
    const user = await t.addUser('bob', ['reader']);
    await t.registry.register(user, key.publicPem, { keyId: 'b1' });
  });
  afterAll(async () => {
    await proxy.up();
    await t?.close();
    await proxy.down();
  });

  it('refuses with 503 while the database is unreachable, and recovers by itself', async () => {
    const run = load(t, key, 'bob', 'b1');
    // Down only once the load is answered (not after a fixed 400 ms, which a busy CI machine can
    // spend before the first answer).
    await until(async () => run.outcomes.some((o) => o.status === 200), 15_000);
    await sleep(200);
    await proxy.down();
    const down = Date.now();
    await sleep(1500);
    const restart = Date.now();
    await proxy.up();
    const recoveredIn = await until(
      async () => run.outcomes.some((o) => o.at > restart && o.status === 200),
      15_000,
    );
    await run.stop();

    const before = run.outcomes.filter((o) => o.at < down);
    const during = run.outcomes.filter((o) => o.at > down + 200 && o.at < restart);
    expect(before.length).toBeGreaterThan(0);
    expect(during.length).toBeGreaterThan(0);
    expect(new Set(during.map((o) => `${o.status} ${o.code}`))).toEqual(
      new Set(['503 AUTH_BACKEND_UNAVAILABLE']),
    );
    expect(run.outcomes.every((o) => o.status === 200 || o.status === 503)).toBe(true);
    console.log(
      `database fault: ${before.length} ok before, ${during.length} refused (503) while down, recovered ${recoveredIn} ms after restore`,
    );
  });
});
