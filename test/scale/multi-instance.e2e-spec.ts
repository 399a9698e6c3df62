import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/cli-program';
import { signRequest } from '../../src/client';
import { haveService, REDIS_URL } from '../setup/services';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { DemoProcess, startDemo } from '../support/processes';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const ready = haveService('postgres') && haveService('redis');
// Needs PostgreSQL and Redis; skipped (visibly) without them, and CI (REQUIRE_SERVICES=1) fails instead.
const describeIfServices = ready ? describe : describe.skip;
if (!ready) console.warn('SKIPPING multi-instance tests: they need PostgreSQL and Redis');

/** Two demo processes sharing one PostgreSQL and one Redis, behind one public origin. */
describeIfServices('two instances sharing PostgreSQL and Redis', () => {
  const ORIGIN = 'https://api.example.test';
  let db: TestDatabase;
  let a: DemoProcess;
  let b: DemoProcess;
  const root = testKey('ed25519', 0);
  const bob = testKey('ed25519', 1);

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
    const dir = mkdtempSync(join(tmpdir(), 'kpa-multi-'));
    writeFileSync(`${dir}/root.pub`, root.publicPem);
    writeFileSync(`${dir}/bob.pub`, bob.publicPem);
    const io = { out: () => undefined, err: (l: string) => console.error(l) };
    try {
      expect(await runCli(['users', 'add', 'root', '--roles', 'admin,reader', '--create'], io)).toBe(0);
      expect(await runCli(['keys', 'add', 'root', `${dir}/root.pub`, '--key-id', 'root-1'], io)).toBe(0);
      expect(await runCli(['users', 'add', 'bob', '--roles', 'reader'], io)).toBe(0);
      expect(await runCli(['keys', 'add', 'bob', `${dir}/bob.pub`, '--key-id', 'bob-1'], io)).toBe(0);
    } finally {
      process.env.DATABASE_URL = saved;
    }
    const env = { DATABASE_URL: db.url, REDIS_URL, PUBLIC_ORIGIN: ORIGIN };
    [a, b] = await Promise.all([
      startDemo({ ...env, HTTP_ADAPTER: 'fastify' }),
      startDemo({ ...env, HTTP_ADAPTER: 'express' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
  });

  const get = (server: DemoProcess, headers: Record<string, string>) =>
    fetch(`${server.url}/whoami`, { headers }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { code?: string },
    }));

  it('the same JWT sent to both at the same moment succeeds exactly once, every time', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const headers = { Authorization: await jwtHeader(bob.privateKey, 'bob', 'bob-1') };
      const [ra, rb] = await Promise.all([get(a, headers), get(b, headers)]);
      outcomes.push(
        [ra, rb]
          .map((r) => `${r.status}${r.body.code ? ` ${r.body.code}` : ''}`)
          .sort()
          .join(' / '),
      );
    }
    expect(new Set(outcomes)).toEqual(new Set(['200 / 401 REPLAYED']));
  });

  it('the same RFC 9421 signed request sent to both at the same moment succeeds exactly once, every time', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      // Signed for the public origin both instances serve; sent to each instance directly.
      const { headers } = signRequest(
        { method: 'GET', url: `${ORIGIN}/whoami` },
        { keyId: 'bob-1', privateKey: bob.privateKey },
      );
      const [ra, rb] = await Promise.all([get(a, headers), get(b, headers)]);
      outcomes.push(
        [ra, rb]
          .map((r) => `${r.status}${r.body.code ? ` ${r.body.code}` : ''}`)
          .sort()
          .join(' / '),
      );
    }
    expect(new Set(outcomes)).toEqual(new Set(['200 / 401 REPLAYED']));
  });

  it('a key revoked through one instance is refused by the other within 1 s', async () => {
    const carol = testKey('ed25519', 2);
    const admin = async () => ({
      Authorization: await jwtHeader(root.privateKey, 'root', 'root-1'),
      'content-type': 'application/json',
    });
    await fetch(`${a.url}/admin/users`, {
      method: 'POST',
      headers: await admin(),
      body: JSON.stringify({ username: 'carol', roles: ['reader'] }),
    });
    const reg = await fetch(`${a.url}/admin/users/carol/keys`, {
      method: 'POST',
      headers: await admin(),
      body: JSON.stringify({ publicKey: carol.publicPem, keyId: 'carol-1' }),
    });
    expect(reg.status).toBe(201);
    // Both instances have the key cached now.
    expect(
      (await get(a, { Authorization: await jwtHeader(carol.privateKey, 'carol', 'carol-1') })).status,
    ).toBe(200);
    expect(
      (await get(b, { Authorization: await jwtHeader(carol.privateKey, 'carol', 'carol-1') })).status,
    ).toBe(200);

    const revoked = await fetch(`${a.url}/admin/keys/carol-1`, {
      method: 'DELETE',
      headers: { Authorization: await jwtHeader(root.privateKey, 'root', 'root-1') },
    });
    expect(revoked.status).toBe(200);
    const started = Date.now();
    let last: { status: number; body: { code?: string } } = { status: 0, body: {} };
    while (Date.now() - started < 1000) {
      last = await get(b, { Authorization: await jwtHeader(carol.privateKey, 'carol', 'carol-1') });
      if (last.status === 401) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect([last.status, last.body.code]).toEqual([401, 'KEY_REVOKED']);
    const elapsed = Date.now() - started;
    console.log(`revocation seen by the other instance after ${elapsed} ms`);
    expect(elapsed).toBeLessThan(1000);
  });

  it('reports the database and Redis as up', async () => {
    const res = await fetch(`${b.url}/health`);
    expect([res.status, await res.json()]).toEqual([
      200,
      { status: 'ok', database: 'up', replayStore: 'up' },
    ]);
  });
});
