import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli-program';
import { haveService } from '../setup/services';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { DemoProcess, startDemo } from '../support/processes';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { Answer, send, sfString } from './support/idempotency-app';

// The built demo server (`npm run build` first), as separate processes sharing one database.
const alice = testKey('ed25519', 0);
const auth = () => jwtHeader(alice.privateKey, 'alice', 'alice-key');
const LOCK_TTL_SECONDS = 2;

/** Registers alice and her key with the CLI, against the database the demos will use. */
async function registerAlice(databaseUrl: string, dir: string): Promise<void> {
  writeFileSync(join(dir, 'alice.pub'), alice.publicPem);
  const saved = process.env.DATABASE_URL;
  process.env.DATABASE_URL = databaseUrl;
  try {
    const io = { out: () => undefined, err: (line: string) => console.error(line) };
    expect(await runCli(['users', 'add', 'alice', '--roles', 'writer', '--create'], io)).toBe(0);
    expect(await runCli(['keys', 'add', 'alice', join(dir, 'alice.pub'), '--key-id', 'alice-key'], io)).toBe(
      0,
    );
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
}

/** Two demo processes on one database, started one after the other (the first migrates and seeds). */
async function startPair(databaseUrl: string): Promise<[DemoProcess, DemoProcess]> {
  const env = {
    DATABASE_URL: databaseUrl,
    DEMO_FAULT_INJECTION: '1',
    IDEMPOTENCY_LOCK_TTL_SECONDS: String(LOCK_TTL_SECONDS),
  };
  const a = await startDemo({ ...env, HTTP_ADAPTER: 'express' });
  try {
    return [a, await startDemo({ ...env, HTTP_ADAPTER: 'fastify' })];
  } catch (error) {
    await a.stop();
    throw error;
  }
}

/**
 * DemoProcess.stop() waits for 'exit' when exitCode is null, which never comes for a
 * child already killed by a signal (exitCode stays null, signalCode is set).
 */
const stopIfRunning = async (demo: DemoProcess | undefined): Promise<void> => {
  if (demo && demo.child.exitCode === null && demo.child.signalCode === null) await demo.stop();
};

const transfer = async (demo: DemoProcess, key: string, body: unknown, fault?: string): Promise<Answer> =>
  send(`${demo.url}/transfers`, {
    body,
    headers: {
      authorization: await auth(),
      'idempotency-key': sfString(key),
      ...(fault ? { 'x-demo-fault': fault } : {}),
    },
  });
const get = async (demo: DemoProcess, path: string): Promise<unknown> => {
  const res = await send(`${demo.url}${path}`, { method: 'GET', headers: { authorization: await auth() } });
  expect(res.status).toBe(200);
  return JSON.parse(res.text);
};
const balances = async (demo: DemoProcess) =>
  Object.fromEntries(
    ((await get(demo, '/accounts')) as { id: string; balance: number }[]).map((a) => [a.id, a.balance]),
  );
const transferCount = async (demo: DemoProcess) => ((await get(demo, '/transfers')) as unknown[]).length;

/** Kills a demo mid-transfer (SIGKILL between debit and credit), then retries on the other one. */
async function crashScenario(crashing: DemoProcess, survivor: DemoProcess): Promise<void> {
  const before = await balances(survivor);
  const count = await transferCount(survivor);
  const key = randomUUID();
  const body = { from: 'checking', to: 'savings', amount: 4200 };
  const exited = new Promise((resolve) => crashing.child.once('exit', resolve));
  await expect(transfer(crashing, key, body, 'crash-after-debit')).rejects.toThrow();
  await exited;
  // Nothing half-applied: the debit died with its transaction.
  expect(await balances(survivor)).toEqual(before);
  expect(await transferCount(survivor)).toBe(count);
  // The dead attempt still holds the key until its lock expires.
  const blocked = await transfer(survivor, key, body);
  expect({ status: blocked.status, code: blocked.body.code }).toEqual({
    status: 409,
    code: 'IDEMPOTENCY_IN_PROGRESS',
  });
  expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  await new Promise((r) => setTimeout(r, LOCK_TTL_SECONDS * 1000 + 200));
  const retried = await transfer(survivor, key, body);
  expect(retried.status).toBe(201);
  expect(retried.headers.get('idempotent-replayed')).toBeNull();
  expect(await balances(survivor)).toEqual({
    checking: before.checking - 4200,
    savings: before.savings + 4200,
  });
  expect((await transfer(survivor, key, body)).text).toBe(retried.text);
  expect(await transferCount(survivor)).toBe(count + 1);
}

const describeIfPostgres = haveService('postgres') ? describe : describe.skip;
if (!haveService('postgres')) console.warn('SKIPPING the two-process demo transfer test: no PostgreSQL');

describeIfPostgres('demo POST /transfers on two processes sharing one PostgreSQL (express + fastify)', () => {
  let db: TestDatabase;
  let dir: string;
  let a: DemoProcess;
  let b: DemoProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-idem-'));
    db = await createTestDatabase('postgres');
    await registerAlice(db.url, dir);
    [a, b] = await startPair(db.url);
  }, 60_000);
  afterAll(async () => {
    await stopIfRunning(a);
    await stopIfRunning(b);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeds the accounts once, though both processes seeded at start', async () => {
    expect(await get(a, '/accounts')).toEqual([
      { id: 'checking', balance: 1_000_000 },
      { id: 'savings', balance: 0 },
    ]);
  });

  it('100 concurrent retries spread over both processes move the money exactly once', async () => {
    const before = await balances(a);
    const key = randomUUID();
    const body = { from: 'checking', to: 'savings', amount: 2500 };
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => transfer(i % 2 === 0 ? a : b, key, body, 'slow')),
    );
    const created = answers.filter((x) => x.status === 201);
    const conflicts = answers.filter((x) => x.status === 409);
    const after = await balances(b);
    console.log(
      `[two demo processes, PostgreSQL] 100 concurrent POST /transfers, one key: ${created.length}×201, ` +
        `${conflicts.length}×409; balances ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
    );
    expect(created.length + conflicts.length).toBe(100);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((x) => x.text)).size).toBe(1);
    for (const c of conflicts) expect(c.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(after).toEqual({ checking: before.checking - 2500, savings: before.savings + 2500 });
    expect(await transferCount(a)).toBe(1);
    // Both processes replay the identical stored body.
    const [ra, rb] = await Promise.all([transfer(a, key, body), transfer(b, key, body)]);
    expect([ra.text, rb.text]).toEqual([created[0].text, created[0].text]);
    expect([ra.headers.get('idempotent-replayed'), rb.headers.get('idempotent-replayed')]).toEqual([
      'true',
      'true',
    ]);
    expect((await transfer(b, key, { ...body, amount: 2501 })).status).toBe(422);
  });

  it('a process killed mid-transfer leaves nothing half-done; once its lock expires the other applies it once', async () => {
    await crashScenario(a, b);
  }, 30_000);
});

describe('demo POST /transfers on two processes sharing one SQLite file', () => {
  let dir: string;
  let a: DemoProcess;
  let b: DemoProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-idem-'));
    const url = `sqlite:${join(dir, 'demo.sqlite')}`;
    await registerAlice(url, dir);
    [a, b] = await startPair(url);
  }, 60_000);
  afterAll(async () => {
    await stopIfRunning(a);
    await stopIfRunning(b);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a process killed mid-transfer leaves nothing half-done; once its lock expires the other applies it once', async () => {
    await crashScenario(b, a);
  }, 30_000);
});
