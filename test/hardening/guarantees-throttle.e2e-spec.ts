import { MemoryReplayStore, ReplayStoreUnavailableError } from '../../src';
import { signRequest } from '../../src/client';
import { jwtHeader } from '../support/auth';
import { send, SendResult } from '../support/certificates';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { seedClaims, sign } from '../support/tokens';

/*
 * What the failure throttle counts, beyond test/hardening/throttle.e2e-spec.ts: a success does not
 * reset the count, X-Forwarded-For is never the address, and 413 and 503 are not failures.
 * Each test uses addresses of its own, and forged tokens name key ids nobody has, so only the
 * address is counted.
 */

const MAX = 5;

/** The memory replay store, which can be told it is down. */
class SwitchableReplayStore extends MemoryReplayStore {
  down = false;
  override claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    if (this.down) return Promise.reject(new ReplayStoreUnavailableError('switched off by the test'));
    return super.claim(scope, nonce, ttlMs);
  }
}

describe.each(ADAPTERS)('what the failure throttle counts, %s', (adapter) => {
  let t: TestApp;
  const replayStore = new SwitchableReplayStore();
  const alice = testKey('ed25519', 0);
  const bob = testKey('ed25519', 1);
  const forger = testKey('ed25519', 2);
  let forgeries = 0;

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      options: {
        replayStore,
        throttle: { maxFailures: MAX, windowSeconds: 60 },
        httpSignature: { maxBodyBytes: 64 },
      },
    });
    await t.registry.register(await t.addUser('alice', ['reader']), alice.publicPem, { keyId: 'alice-ed' });
    await t.registry.register(await t.addUser('bob', ['reader']), bob.publicPem, { keyId: 'bob-1' });
  });
  afterAll(() => t.close());

  const whoami = (from: string, headers: Record<string, string>) =>
    send(`${t.server}/probe/whoami`, { localAddress: from, headers });
  const good = async (from: string, key = alice, keyId = 'alice-ed', user = 'alice') =>
    whoami(from, { authorization: await jwtHeader(key.privateKey, user, keyId) });
  /** A forged token for a key id nobody has, from `from`, with extra headers. */
  const forged = async (from: string, headers: Record<string, string> = {}) => {
    const token = await sign(
      forger.privateKey,
      { alg: 'EdDSA', kid: `nobody-${forgeries++}` },
      seedClaims('alice'),
    );
    return whoami(from, { authorization: `JWT ${token}`, ...headers });
  };
  const answer = (res: SendResult) => `${res.status} ${res.body.code ?? ''}`.trim();

  it('a success does not reset the counter: 4 failures, a success, 1 failure, then 429', async () => {
    const from = '127.0.0.21';
    const log: string[] = [];
    for (let i = 0; i < MAX - 1; i++) log.push(answer(await forged(from)));
    log.push(answer(await good(from)));
    log.push(answer(await forged(from)));
    log.push(answer(await good(from)));
    expect(log).toEqual([
      ...Array(MAX - 1).fill('401 KEY_UNKNOWN_OR_SIGNATURE_INVALID'),
      '200',
      '401 KEY_UNKNOWN_OR_SIGNATURE_INVALID',
      '429 AUTH_THROTTLED',
    ]);
  });

  it('X-Forwarded-For is never the address: failures count against the TCP peer, not the address it names', async () => {
    const attacker = '127.0.0.22';
    const victim = '127.0.0.23';
    for (let i = 0; i < MAX; i++) {
      const res = await forged(attacker, {
        'x-forwarded-for': `10.0.0.${i}, ${victim}`,
        'x-real-ip': victim,
        forwarded: `for=${victim}`,
      });
      expect(answer(res)).toBe('401 KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    }
    // Rotating X-Forwarded-For did not spread the failures: the peer is throttled...
    expect(answer(await forged(attacker, { 'x-forwarded-for': '10.1.1.1' }))).toBe('429 AUTH_THROTTLED');
    // ...and the address it named was not: the victim keeps getting 200.
    expect(answer(await good(victim))).toBe('200');
  });

  it('413 BODY_TOO_LARGE is not a failure: more than maxFailures of them, then 200', async () => {
    const from = '127.0.0.24';
    const body = JSON.stringify({ pad: 'x'.repeat(200) });
    for (let i = 0; i <= MAX + 1; i++) {
      const { headers } = signRequest(
        {
          method: 'POST',
          url: `${t.server}/probe/echo`,
          headers: { 'content-type': 'application/json' },
          body,
        },
        { keyId: 'bob-1', privateKey: bob.privateKey },
      );
      const res = await send(`${t.server}/probe/echo`, { method: 'POST', headers, body, localAddress: from });
      expect(answer(res)).toBe('413 BODY_TOO_LARGE');
    }
    expect(answer(await good(from, bob, 'bob-1', 'bob'))).toBe('200');
  });

  it('503 AUTH_BACKEND_UNAVAILABLE is not a failure: more than maxFailures of them, then 200', async () => {
    const from = '127.0.0.25';
    replayStore.down = true;
    try {
      for (let i = 0; i <= MAX + 1; i++)
        expect(answer(await good(from, bob, 'bob-1', 'bob'))).toBe('503 AUTH_BACKEND_UNAVAILABLE');
    } finally {
      replayStore.down = false;
    }
    expect(answer(await good(from, bob, 'bob-1', 'bob'))).toBe('200');
  });
});
