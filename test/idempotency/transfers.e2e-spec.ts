import { randomUUID } from 'node:crypto';
import { signRequest } from '../../src/client';
import { ADAPTERS } from '../support/test-app';
import { DATABASES } from '../support/test-database';
import {
  Answer,
  createIdempotencyApp,
  IdempotencyApp,
  send,
  sfString,
  USERS,
} from './support/idempotency-app';

const combos = ADAPTERS.flatMap((adapter) => DATABASES.map((database) => [adapter, database] as const));

describe.each(combos)('POST /transfers with Idempotency-Key, %s + %s', (adapter, database) => {
  let t: IdempotencyApp;

  beforeAll(async () => {
    t = await createIdempotencyApp({ adapter, database });
  });
  afterAll(() => t?.close());

  const transfer = async (
    key: string | null,
    body: unknown,
    { user = 'alice', headers = {} }: { user?: 'alice' | 'bob'; headers?: Record<string, string> } = {},
  ): Promise<Answer> =>
    send(`${t.server}/transfers`, {
      body,
      headers: {
        authorization: await t.auth(user),
        ...(key === null ? {} : { 'idempotency-key': sfString(key) }),
        ...headers,
      },
    });
  const balances = async (): Promise<Record<string, number>> => {
    const res = await send(`${t.server}/accounts`, {
      method: 'GET',
      headers: { authorization: await t.auth('alice') },
    });
    expect(res.status).toBe(200);
    return Object.fromEntries(
      (JSON.parse(res.text) as { id: string; balance: number }[]).map((a) => [a.id, a.balance]),
    );
  };
  const transferCount = async (): Promise<number> => {
    const res = await send(`${t.server}/transfers`, {
      method: 'GET',
      headers: { authorization: await t.auth('alice') },
    });
    return (JSON.parse(res.text) as unknown[]).length;
  };
  const expectError = (res: Answer, status: number, code: string) => {
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
    expect(res.body).toEqual({
      statusCode: status,
      error: expect.any(String),
      code,
      message: expect.any(String),
    });
  };

  it('100 concurrent retries of one transfer move the money exactly once; each answer is the stored success or 409', async () => {
    const before = await balances();
    expect(before).toEqual({ checking: 1_000_000, savings: 0 }); // as seeded
    const key = randomUUID();
    const body = { from: 'checking', to: 'savings', amount: 2500 };
    const auths = await Promise.all(Array.from({ length: 100 }, () => t.auth('alice')));
    const answers = await Promise.all(
      auths.map((authorization) =>
        send(`${t.server}/transfers`, {
          body,
          // The first attempt pauses 300 ms inside its transaction, so the others meet it running.
          headers: { authorization, 'idempotency-key': sfString(key), 'x-demo-fault': 'slow' },
        }),
      ),
    );
    const created = answers.filter((a) => a.status === 201);
    const conflicts = answers.filter((a) => a.status === 409);
    console.log(
      `[${adapter}+${database}] 100 concurrent POST /transfers, one key: ${created.length}×201, ${conflicts.length}×409`,
    );
    expect(created.length + conflicts.length).toBe(100);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(conflicts.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.text)).size).toBe(1);
    for (const c of conflicts) {
      expectError(c, 409, 'IDEMPOTENCY_IN_PROGRESS');
      expect(Number(c.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(created.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    const after = await balances();
    expect(after).toEqual({ checking: before.checking - 2500, savings: before.savings + 2500 });
    expect(created[0].body).toMatchObject({ from: 'checking', to: 'savings', amount: 2500, balances: after });

    // A later retry replays the identical stored body, marked as a replay.
    const replay = await transfer(key, body);
    expect(replay.status).toBe(201);
    expect(replay.text).toBe(created[0].text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await balances()).toEqual(after);
  });

  it('the same key with a different body is 422; a missing key is 400', async () => {
    const key = randomUUID();
    expect((await transfer(key, { from: 'checking', to: 'savings', amount: 100 })).status).toBe(201);
    const before = await balances();
    expectError(
      await transfer(key, { from: 'checking', to: 'savings', amount: 101 }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    expectError(
      await transfer(null, { from: 'checking', to: 'savings', amount: 100 }),
      400,
      'IDEMPOTENCY_KEY_MISSING',
    );
    expect(await balances()).toEqual(before);
  });

  it('the same JSON re-serialized (key order, spaces) is the same request', async () => {
    const key = randomUUID();
    const first = await transfer(key, { from: 'checking', to: 'savings', amount: 7 });
    const again = await send(`${t.server}/transfers`, {
      rawBody: '{ "amount": 7,\n  "to": "savings", "from": "checking" }',
      headers: { authorization: await t.auth('alice'), 'idempotency-key': sfString(key) },
    });
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
  });

  it.each([
    ['an unquoted token', 'abc-123'],
    ['a bare UUID (not a structured-field string)', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['an integer', '42'],
    ['an empty string', '""'],
    ['a key of 256 characters', `"${'k'.repeat(256)}"`],
    ['a byte sequence', ':aGVsbG8=:'],
    ['junk after the string', '"abc" x'],
  ])('refuses %s as Idempotency-Key with 400 IDEMPOTENCY_KEY_INVALID', async (_name, value) => {
    const before = await balances();
    const res = await send(`${t.server}/transfers`, {
      body: { from: 'checking', to: 'savings', amount: 1 },
      headers: { authorization: await t.auth('alice'), 'idempotency-key': value },
    });
    expectError(res, 400, 'IDEMPOTENCY_KEY_INVALID');
    expect(await balances()).toEqual(before);
  });

  it('accepts a key of 255 characters with parameters, and refuses two Idempotency-Key lines', async () => {
    const ok = await send(`${t.server}/transfers`, {
      body: { from: 'checking', to: 'savings', amount: 1 },
      headers: {
        authorization: await t.auth('alice'),
        'idempotency-key': `"${randomUUID()}${'k'.repeat(255 - 36)}";v=1`,
      },
    });
    expect(ok.status).toBe(201);
    // fetch joins repeated headers, so two lines need a raw request.
    const { request } = await import('node:http');
    const url = new URL(`${t.server}/transfers`);
    const authorization = await t.auth('alice');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: [
            ['Authorization', authorization],
            ['Content-Type', 'application/json'],
            ['Idempotency-Key', '"one"'],
            ['Idempotency-Key', '"two"'],
          ].flat(),
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ from: 'checking', to: 'savings', amount: 1 }));
    });
    expect(status).toBe(400);
  });

  it('a handler that fails midway leaves no half-applied transfer; the key can be retried and applies once', async () => {
    const before = await balances();
    const count = await transferCount();
    const key = randomUUID();
    const body = { from: 'checking', to: 'savings', amount: 300 };
    const failed = await transfer(key, body, { headers: { 'x-demo-fault': 'fail-after-debit' } });
    expect(failed.status).toBe(500);
    expect(await balances()).toEqual(before);
    expect(await transferCount()).toBe(count);
    // 5xx is not stored and the lock was released: the retry runs (once).
    const retry = await transfer(key, body);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await balances()).toEqual({ checking: before.checking - 300, savings: before.savings + 300 });
    expect((await transfer(key, body)).text).toBe(retry.text);
    expect(await transferCount()).toBe(count + 1);
  });

  it('stores 4xx outcomes of the handler and replays them', async () => {
    const key = randomUUID();
    const missing = await transfer(key, { from: 'checking', to: 'nowhere', amount: 1 });
    expectError(missing, 404, 'ACCOUNT_NOT_FOUND');
    const again = await transfer(key, { from: 'checking', to: 'nowhere', amount: 1 });
    expect(again.status).toBe(404);
    expect(again.text).toBe(missing.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const poor = randomUUID();
    expectError(
      await transfer(poor, { from: 'savings', to: 'checking', amount: 99_999_999 }),
      422,
      'INSUFFICIENT_FUNDS',
    );
    expect(
      (await transfer(poor, { from: 'savings', to: 'checking', amount: 99_999_999 })).headers.get(
        'idempotent-replayed',
      ),
    ).toBe('true');
  });

  it("one user cannot replay another user's key: bob gets his own execution", async () => {
    const key = randomUUID();
    const body = { from: 'checking', to: 'savings', amount: 11 };
    const before = await balances();
    const alice = await transfer(key, body, { user: 'alice' });
    const bob = await transfer(key, body, { user: 'bob' });
    expect(alice.status).toBe(201);
    expect(bob.status).toBe(201);
    expect(bob.headers.get('idempotent-replayed')).toBeNull();
    expect(bob.body.id).not.toBe(alice.body.id);
    expect(await balances()).toEqual({ checking: before.checking - 22, savings: before.savings + 22 });
    // Each one's retry replays their own.
    expect((await transfer(key, body, { user: 'bob' })).text).toBe(bob.text);
    expect((await transfer(key, body, { user: 'alice' })).text).toBe(alice.text);
    // And another body under alice's key is still "reused" for alice only.
    expectError(
      await transfer(key, { ...body, amount: 12 }, { user: 'alice' }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
  });

  it('signed requests: a signed retry of a JWT request replays; another signed body is 422', async () => {
    const key = randomUUID();
    const url = `${t.server}/transfers`;
    const signed = (text: string) => {
      const headers = { 'content-type': 'application/json', 'idempotency-key': sfString(key) };
      const { headers: all } = signRequest(
        { method: 'POST', url, headers, body: text },
        { keyId: 'alice-key', privateKey: USERS.alice.key.privateKey },
      );
      return send(url, { rawBody: text, headers: all });
    };
    const first = await transfer(key, { from: 'checking', to: 'savings', amount: 5 });
    expect(first.status).toBe(201);
    const replay = await signed('{"amount":5, "from":"checking","to":"savings"}');
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(first.text);
    expectError(await signed('{"from":"checking","to":"savings","amount":6}'), 422, 'IDEMPOTENCY_KEY_REUSED');
  });
});
