import { randomUUID } from 'node:crypto';
import { IdempotencyStore, IdempotencyStoreUnavailableError, MemoryIdempotencyStore } from '../../src';
import { ADAPTERS } from '../support/test-app';
import { Answer, createIdempotencyApp, IdempotencyApp, send, sfString } from './support/idempotency-app';
import {
  CounterEndpoint,
  IdempotencyProbeController,
  PaymentEndpoint,
  RUNS,
} from './support/idempotency-probe.controller';

const expectError = (res: Answer, status: number, code: string) => {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.body).toEqual({
    statusCode: status,
    error: expect.any(String),
    code,
    message: expect.any(String),
  });
};

describe.each(ADAPTERS)('@Idempotent() routes and endpoint classes on %s', (adapter) => {
  let t: IdempotencyApp;

  beforeAll(async () => {
    t = await createIdempotencyApp({
      adapter,
      database: 'sqlite',
      idempotency: { maxResponseBytes: 4096 },
      controllers: [IdempotencyProbeController],
      providers: [CounterEndpoint, PaymentEndpoint],
    });
  });
  afterAll(() => t?.close());
  beforeEach(() => {
    for (const name of Object.keys(RUNS)) delete RUNS[name];
  });

  const post = async (
    path: string,
    key: string | null,
    body: unknown = {},
    user: 'alice' | 'bob' = 'alice',
  ): Promise<Answer> =>
    send(`${t.server}/idem/${path}`, {
      body,
      headers: {
        authorization: await t.auth(user),
        ...(key === null ? {} : { 'idempotency-key': sfString(key) }),
      },
    });

  it('replays status, the kept headers and the body; never Set-Cookie; the handler ran once', async () => {
    const key = randomUUID();
    const first = await post('echo', key, { a: 1 });
    expect(first.status).toBe(202);
    expect(first.headers.get('location')).toBe('/idem/echo/1');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await post('echo', key, { a: 1 });
    expect(again.status).toBe(202);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('location')).toBe('/idem/echo/1');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(RUNS.echo).toBe(1);
  });

  it('stores 4xx outcomes (not 408/425/429) and releases the key after 5xx', async () => {
    for (const [status, stored] of [
      [404, true],
      [409, true],
      [429, false],
      [503, false],
    ] as const) {
      const key = randomUUID();
      const first = await post(`fail/${status}`, key);
      expect(first.status).toBe(status);
      const again = await post(`fail/${status}`, key);
      expect(again.status).toBe(status);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe(stored ? 'true' : null);
      expect(RUNS[`fail-${status}`]).toBe(stored ? 1 : 2);
    }
    const key = randomUUID();
    expect((await post('crash', key)).status).toBe(500);
    expect((await post('crash', key)).status).toBe(500);
    expect(RUNS.crash).toBe(2);
  });

  it('refuses an unauthenticated (@Public) route rather than scoping keys globally', async () => {
    const res = await send(`${t.server}/idem/public`, {
      body: {},
      headers: { 'idempotency-key': sfString('k-1') },
    });
    expectError(res, 500, 'IDEMPOTENCY_REQUIRES_AUTHENTICATION');
    expect(RUNS.public).toBeUndefined();
    expect(t.logs.entries.some((e) => e.level === 'error' && /no SecurityContext/.test(e.message))).toBe(
      true,
    );
  });

  it('required: false runs keyless requests every time, keyed ones once', async () => {
    expect((await post('optional', null)).body).toEqual({ n: 1 });
    expect((await post('optional', null)).body).toEqual({ n: 2 });
    const key = randomUUID();
    expect((await post('optional', key)).body).toEqual({ n: 3 });
    expect((await post('optional', key)).body).toEqual({ n: 3 });
  });

  it('a response above maxResponseBytes is sent once; its replays answer 500 IDEMPOTENCY_RESPONSE_NOT_STORED', async () => {
    const key = randomUUID();
    const first = await send(`${t.server}/idem/big?size=5000`, {
      body: {},
      headers: { authorization: await t.auth('alice'), 'idempotency-key': sfString(key) },
    });
    expect(first.status).toBe(201);
    expect((first.body.data as string).length).toBe(5000);
    const again = await send(`${t.server}/idem/big?size=5000`, {
      body: {},
      headers: { authorization: await t.auth('alice'), 'idempotency-key': sfString(key) },
    });
    expectError(again, 500, 'IDEMPOTENCY_RESPONSE_NOT_STORED');
    expect(RUNS.big).toBe(1);
  });

  it('keeps the lock of a slow handler alive past its TTL (1 s) with the heartbeat: a retry meanwhile is 409', async () => {
    const key = randomUUID();
    const slow = post('slow', key);
    await new Promise((r) => setTimeout(r, 1600));
    const meanwhile = await post('slow', key);
    expectError(meanwhile, 409, 'IDEMPOTENCY_IN_PROGRESS');
    expect(Number(meanwhile.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const first = await slow;
    expect(first.body).toEqual({ n: 1 });
    expect((await post('slow', key)).text).toBe(first.text);
    expect(RUNS.slow).toBe(1);
  });

  it('IdempotentEndpoint runs loadState → updateState → getResponse once per key, and refuses to run unguarded', async () => {
    const key = randomUUID();
    const first = await post('counter', key, { by: 5 });
    expect((await post('counter', key, { by: 5 })).text).toBe(first.text);
    expect(RUNS.counter).toBe(1);
    const unguarded = await post('counter-unguarded', null, { by: 1 });
    expect(unguarded.status).toBe(500);
    expect(RUNS.counter).toBe(1);
  });

  it('RecoverableIdempotentEndpoint resumes after the last completed step instead of repeating it', async () => {
    const key = randomUUID();
    const path = 'pay?failEmailOnce=1';
    const failed = await post(path, key);
    expect(failed.status).toBe(503);
    expect(RUNS).toEqual({ charge: 1, email: 1 });
    const retry = await post(path, key);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual({ resumedFrom: 'charge', chargeId: 'ch_1', emailed: true });
    expect(RUNS).toEqual({ charge: 1, email: 2 });
    expect((await post(path, key)).text).toBe(retry.text);
    expect(RUNS).toEqual({ charge: 1, email: 2 });
  });
});

describe('TypeOrmIdempotentEndpoint with a store that cannot join its transaction', () => {
  let t: IdempotencyApp;
  const store = new MemoryIdempotencyStore();
  beforeAll(async () => {
    t = await createIdempotencyApp({ adapter: 'express', database: 'sqlite', idempotency: { store } });
  });
  afterAll(async () => {
    await t?.close();
    store.close();
  });

  it('refuses (500, the fix logged) and moves no money', async () => {
    const res = await send(`${t.server}/transfers`, {
      body: { from: 'checking', to: 'savings', amount: 1 },
      headers: { authorization: await t.auth('alice'), 'idempotency-key': sfString(randomUUID()) },
    });
    expect(res.status).toBe(500);
    expect(
      t.logs.entries.some((e) =>
        /TypeOrmIdempotentEndpoint but idempotency\.store is a MemoryIdempotencyStore/.test(e.message),
      ),
    ).toBe(true);
    const accounts = await send(`${t.server}/accounts`, {
      method: 'GET',
      headers: { authorization: await t.auth('alice') },
    });
    expect(JSON.parse(accounts.text)).toEqual([
      { id: 'checking', balance: 1_000_000 },
      { id: 'savings', balance: 0 },
    ]);
  });
});

describe('an idempotency store that cannot answer', () => {
  let t: IdempotencyApp;
  const down = async (): Promise<never> => {
    throw new IdempotencyStoreUnavailableError('connection refused');
  };
  const store: IdempotencyStore = {
    acquire: down,
    complete: down,
    release: down,
    extend: down,
    checkpoint: down,
  };
  beforeAll(async () => {
    t = await createIdempotencyApp({ adapter: 'fastify', database: 'sqlite', idempotency: { store } });
  });
  afterAll(() => t?.close());

  it('gives 503 IDEMPOTENCY_STORE_UNAVAILABLE and runs nothing', async () => {
    const res = await send(`${t.server}/transfers`, {
      body: { from: 'checking', to: 'savings', amount: 1 },
      headers: { authorization: await t.auth('alice'), 'idempotency-key': sfString(randomUUID()) },
    });
    expectError(res, 503, 'IDEMPOTENCY_STORE_UNAVAILABLE');
    const accounts = await send(`${t.server}/accounts`, {
      method: 'GET',
      headers: { authorization: await t.auth('alice') },
    });
    expect(JSON.parse(accounts.text)).toEqual([
      { id: 'checking', balance: 1_000_000 },
      { id: 'savings', balance: 0 },
    ]);
  });
});
