import { signRequest } from '../../src/client';
import { MemoryReplayStore } from '../../src';
import { FULL_STORE_SWEEP_SLOTS } from '../../src/stores/memory-replay.store';
import { send, SendResult } from '../support/certificates';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import { attackSuite } from './attack-suite';

/**
 * Issue 14, item 11: a burst above the capacity of the in-memory replay store. The store
 * has its default capacity (1,000,000 nonces: a small one sweeps too fast to show the
 * cost), filled with live nonces; one signed request was accepted before it filled up.
 * A new request must get the clean outage answer (503 AUTH_BACKEND_UNAVAILABLE) without
 * costing the server a sweep of the whole store, and the accepted request must still be
 * refused as a replay. The work is counted (slots the store visits), not timed: before the
 * fix each refusal swept all 2,097,152 slots (55 ms and more of main thread).
 */
class CountingStore extends MemoryReplayStore {
  get work(): number {
    return this.sweptSlots;
  }
}

interface FullStoreEnv {
  readonly t: TestApp;
  readonly store: CountingStore;
  /** The headers of a request accepted before the store filled up. */
  readonly accepted: Record<string, string>;
}

const KEY = testKey('ed25519', 0);
const KEY_ID = 'full-ed';
const CAPACITY = 1_000_000; // MemoryReplayStore's default maxEntries
const HOUR_MS = 3_600_000;
/** The most slots one refused claim may visit: its incremental sweep, and the shifts of what it deletes. */
const MAX_WORK_PER_REFUSAL = 2 * FULL_STORE_SWEEP_SLOTS;
const FULL_LOG = 'memory replay store is full';

function signedGet(env: FullStoreEnv, path: string): Record<string, string> {
  return signRequest(
    { method: 'GET', url: `${env.t.server}${path}` },
    { privateKey: KEY.privateKey, keyId: KEY_ID },
  ).headers;
}

/**
 * Sends five fresh requests made by `headersFor(i)`: the last answer, or a made-up one with
 * code UNBOUNDED_WORK when a refusal made the store visit more slots than a bounded sweep
 * may. The outage log line each refusal writes is expected here, and taken out of the
 * error log.
 */
async function refusedWithBoundedWork(
  env: FullStoreEnv,
  path: (i: number) => string,
  headersFor: (i: number) => Promise<Record<string, string>>,
): Promise<SendResult> {
  let res: SendResult | undefined;
  let most = 0;
  for (let i = 0; i < 5; i++) {
    const headers = await headersFor(i);
    const before = env.store.work;
    res = await send(`${env.t.server}${path(i)}`, { headers });
    most = Math.max(most, env.store.work - before);
  }
  const entries = env.t.logs.entries;
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i].level === 'error' && entries[i].message.includes(FULL_LOG)) entries.splice(i, 1);
  }
  if (most > MAX_WORK_PER_REFUSAL) {
    return { ...res!, body: { code: `UNBOUNDED_WORK (${most} slots visited by one refusal)` } };
  }
  return res!;
}

export const REPLAY_STORE_SUITE = attackSuite<FullStoreEnv>({
  name: 'full memory replay store',
  setup: async (adapter: AdapterName) => {
    // No timed sweep during the cases: every slot visited is a claim's.
    const store = new CountingStore({ maxEntries: CAPACITY, sweepIntervalMs: HOUR_MS });
    const t = await createTestApp({ adapter, database: 'sqlite', options: { replayStore: store } });
    const user = await t.addUser('fuller', ['reader']);
    await t.registry.register(user, KEY.publicPem, { keyId: KEY_ID });
    const env = { t, store, accepted: {} as Record<string, string> };
    const accepted = signedGet(env, '/probe/whoami?accepted=1');
    const first = await send(`${t.server}/probe/whoami?accepted=1`, { headers: accepted });
    if (first.status !== 200) throw new Error(`priming request failed: ${first.status} ${first.body.code}`);
    for (let n = store.size; n < CAPACITY; n++) {
      if (!(await store.claim('attack-fill', `f${n}`, HOUR_MS))) throw new Error('fill: nonce refused');
    }
    return { ...env, accepted };
  },
  teardown: async (env) => {
    env.store.close();
    await env.t.close();
  },
  cases: [
    {
      name: 'replay-store/full-rfc9421-refused-at-once',
      attack: 'a burst of new signed requests above the capacity of a MemoryReplayStore full of live nonces',
      request: 'five fresh RFC 9421 GETs; each must be refused with 503 after a bounded sweep',
      expect: { status: 503, code: 'AUTH_BACKEND_UNAVAILABLE' },
      run: (env) =>
        refusedWithBoundedWork(
          env,
          (i) => `/probe/whoami?burst=${i}`,
          async (i) => signedGet(env, `/probe/whoami?burst=${i}`),
        ),
    },
    {
      name: 'replay-store/full-jwt-refused-at-once',
      attack: 'the same burst with asymmetric JWTs',
      request: 'five fresh JWTs with a nonce each',
      expect: { status: 503, code: 'AUTH_BACKEND_UNAVAILABLE' },
      run: (env) =>
        refusedWithBoundedWork(
          env,
          () => '/probe/whoami',
          async () => ({ authorization: await jwtHeader(KEY.privateKey, 'fuller', KEY_ID) }),
        ),
    },
    {
      name: 'replay-store/full-still-refuses-replay',
      attack: 'replay a request accepted before the store filled up, hoping the full store forgets it',
      request: 'the accepted signed GET again',
      expect: { status: 401, code: 'REPLAYED' },
      run: (env) => send(`${env.t.server}/probe/whoami?accepted=1`, { headers: env.accepted }),
    },
  ],
});
