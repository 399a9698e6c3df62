import type { ThrottleStore } from '../../src';
import { signRequest } from '../../src/client';
import { createRedisClient, RedisThrottleStore } from '../../src/redis';
import { haveService, REDIS_URL } from '../setup/services';
import { jwtHeader } from '../support/auth';
import { send } from '../support/certificates';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { seedClaims, sign } from '../support/tokens';

const MAX = 5;
const ATTACKER = '127.0.0.3';
const OTHER = '127.0.0.4';

describe.each(ADAPTERS)('throttling failed authentication on %s', (adapter) => {
  let t: TestApp;
  const alice = testKey('ed25519', 0);
  const bob = testKey('ed25519', 1);
  const forger = testKey('ed25519', 2);
  const reader = testKey('ed25519', 3);

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      options: { throttle: { maxFailures: MAX, windowSeconds: 60 } },
    });
    const a = await t.addUser('alice', ['admin', 'reader']);
    await t.registry.register(a, alice.publicPem, { keyId: 'alice-ed' });
    await t.registry.register(a, reader.publicPem, { keyId: 'alice-reader', roles: ['reader'] });
    await t.registry.register(await t.addUser('bob', ['reader']), bob.publicPem, { keyId: 'bob-1' });
  });
  afterAll(() => t.close());

  const whoami = async (from: string, authorization?: string) =>
    send(`${t.server}/probe/whoami`, { localAddress: from, headers: authorization ? { authorization } : {} });
  const good = () => jwtHeader(alice.privateKey, 'alice', 'alice-ed');
  /** A forged token for a key id nobody has (so only the address is counted against bob or alice). */
  const forged = (kid: string) =>
    sign(forger.privateKey, { alg: 'EdDSA', kid }, seedClaims('alice')).then((x) => `JWT ${x}`);

  it(`after ${MAX} failures from one address the next attempts get 429, while a different client keeps getting 200`, async () => {
    const log: string[] = [];
    for (let i = 0; i < MAX; i++) {
      const res = await whoami(ATTACKER, await forged(`nobody-${i}`));
      log.push(`${res.status} ${res.body.code}`);
      expect((await whoami('127.0.0.1', await good())).status).toBe(200);
    }
    expect(log).toEqual(Array(MAX).fill('401 KEY_UNKNOWN_OR_SIGNATURE_INVALID'));

    const blocked = await whoami(ATTACKER, await forged('nobody-x'));
    expect([blocked.status, blocked.body.code]).toEqual([429, 'AUTH_THROTTLED']);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(55);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Even a valid credential from that address waits: the address is what is throttled.
    expect((await whoami(ATTACKER, await good())).status).toBe(429);
    // Everyone else is unaffected.
    for (let i = 0; i < 3; i++) expect((await whoami('127.0.0.1', await good())).status).toBe(200);
    expect((await whoami(OTHER, await good())).status).toBe(200);
  });

  it('refuses a throttled request before any key lookup or signature check', async () => {
    const before = t.queries.count;
    const findKey = jest.spyOn(t.registry, 'findKey');
    const res = await whoami(ATTACKER, await forged('never-looked-up'));
    expect(res.status).toBe(429);
    expect(findKey).not.toHaveBeenCalled();
    expect(t.queries.count).toBe(before);
    findKey.mockRestore();
  });

  it(`throttles one claimed key id after ${MAX} failures, whatever the address`, async () => {
    const addresses = ['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'];
    for (const from of addresses) {
      const res = await whoami(from, await forged('bob-1'));
      expect(res.body.code).toBe('KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    }
    const res = await whoami('127.0.0.15', await forged('bob-1'));
    expect([res.status, res.body.code]).toEqual([429, 'AUTH_THROTTLED']);
    // bob's own requests claim bob-1 too: the documented price of per-key throttling.
    expect((await whoami('127.0.0.16', await jwtHeader(bob.privateKey, 'bob', 'bob-1'))).status).toBe(429);
    // Other keys from those addresses are fine (each address failed once).
    expect((await whoami(addresses[0], await good())).status).toBe(200);
  });

  it('does not count 403s (a role the credential lacks)', async () => {
    for (let i = 0; i < MAX + 3; i++) {
      const authorization = `JWT ${await sign(reader.privateKey, { alg: 'EdDSA', kid: 'alice-reader' }, seedClaims('alice'))}`;
      const res = await send(`${t.server}/probe/admin`, {
        localAddress: '127.0.0.20',
        headers: { authorization },
      });
      expect([res.status, res.body.code]).toEqual([403, 'ROLE_REQUIRED']);
    }
  });

  it('counts RFC 9421 and Cavage failures by their keyid', async () => {
    const url = `${t.server}/probe/whoami`;
    for (let i = 0; i < MAX; i++) {
      const { headers } = signRequest(
        { method: 'GET', url },
        { keyId: 'sig-victim', privateKey: forger.privateKey },
      );
      expect((await send(url, { headers, localAddress: `127.0.1.${i + 1}` })).status).toBe(401);
    }
    const { headers } = signRequest(
      { method: 'GET', url },
      { keyId: 'sig-victim', privateKey: forger.privateKey, format: 'cavage' },
    );
    const res = await send(url, { headers, localAddress: '127.0.1.99' });
    expect([res.status, res.body.code]).toEqual([429, 'AUTH_THROTTLED']);
  });

  it('logs each refusal, the 429s included, as an audit event with the code', () => {
    const codes = t.logs.failures().map((f) => f.code);
    expect(codes.filter((c) => c === 'AUTH_THROTTLED').length).toBeGreaterThanOrEqual(4);
  });
});

describe('throttle windows and store failures (express)', () => {
  it('lets a client try again once the window is over', async () => {
    const t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: { throttle: { maxFailures: 2, windowSeconds: 1 } },
    });
    try {
      const forged = testKey('ed25519', 2);
      const attempt = async () =>
        (
          await send(`${t.server}/probe/whoami`, {
            localAddress: ATTACKER,
            headers: {
              authorization: `JWT ${await sign(forged.privateKey, { alg: 'EdDSA', kid: 'x' }, seedClaims('a'))}`,
            },
          })
        ).status;
      expect([await attempt(), await attempt(), await attempt()]).toEqual([401, 401, 429]);
      await new Promise((r) => setTimeout(r, 1100));
      expect(await attempt()).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('fails open when the store is down: failures stay 401, successes 200, one error logged', async () => {
    const broken: ThrottleStore = { hit: () => Promise.reject(new Error('store down')) };
    const t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: { throttle: { maxFailures: 1, store: broken } },
    });
    try {
      const key = testKey('ed25519', 0);
      await t.registry.register(await t.addUser('alice', ['reader']), key.publicPem, { keyId: 'alice-ed' });
      for (let i = 0; i < 5; i++) {
        const bad = await send(`${t.server}/probe/whoami`, { headers: { authorization: 'JWT a.b.c' } });
        expect(bad.status).toBe(401);
      }
      const ok = await send(`${t.server}/probe/whoami`, {
        headers: { authorization: await jwtHeader(key.privateKey, 'alice', 'alice-ed') },
      });
      expect(ok.status).toBe(200);
      const errors = t.logs.entries.filter((e) => e.level === 'error');
      expect(errors).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(/throttle store unavailable.*failing open/),
        }),
      ]);
    } finally {
      await t.close();
    }
  });
});

// Needs Redis; skipped (visibly) without it, and CI (REQUIRE_SERVICES=1) fails instead.
(haveService('redis') ? describe : describe.skip)('two instances sharing a RedisThrottleStore', () => {
  it('failures counted on one instance throttle the client on the other', async () => {
    const redis = createRedisClient(REDIS_URL);
    const store = new RedisThrottleStore(redis, { prefix: `kpa-test:throttle-e2e:${Date.now()}:` });
    const options = { throttle: { maxFailures: 3, store, by: ['address' as const] } };
    const [a, b] = await Promise.all([
      createTestApp({ adapter: 'express', database: 'sqlite', options }),
      createTestApp({ adapter: 'fastify', database: 'sqlite', options }),
    ]);
    try {
      const bad = (app: TestApp) =>
        send(`${app.server}/probe/whoami`, {
          localAddress: ATTACKER,
          headers: { authorization: 'JWT a.b.c' },
        }).then((r) => r.status);
      expect([await bad(a), await bad(a), await bad(a)]).toEqual([401, 401, 401]);
      expect(await bad(a)).toBe(429);
      // b learns it from the shared count on its first own failure (at most one more per instance).
      expect(await bad(b)).toBe(401);
      expect(await bad(b)).toBe(429);
    } finally {
      await Promise.all([a.close(), b.close()]);
      redis.disconnect();
    }
  });
});
if (!haveService('redis')) console.warn('SKIPPING the two-instance throttle test: it needs Redis');
