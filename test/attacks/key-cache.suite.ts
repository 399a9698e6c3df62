import { randomBytes } from 'node:crypto';
import { PublicKey } from '../../src';
import { send, SendResult } from '../support/certificates';
import { jwtHeader } from '../support/auth';
import { deferred, holdFirstMatchingCall } from '../support/held-call';
import { testKey } from '../support/keys';
import { AdapterName, createTestApp, TestApp } from '../support/test-app';
import { seedClaims, sign } from '../support/tokens';
import { attackSuite } from './attack-suite';

/**
 * The key cache under attack (issue 14, items 7 and 10): unknown ids must not cost a query
 * each nor push known keys out, and a revocation must not be undone by a lookup that was
 * in flight. SQL statements are counted (QueryCounter), not timed. The key cache is small
 * (100 entries), as a busy cache would be.
 */
interface KeyCacheEnv {
  readonly t: TestApp;
}

const ALICE = testKey('ed25519', 0);
const STRANGER = testKey('ed25519', 6);
const whoami = (env: KeyCacheEnv, authorization: string) =>
  send(`${env.t.server}/probe/whoami`, { headers: { authorization } });
const aliceJwt = (kid = 'alice-ed') => jwtHeader(ALICE.privateKey, 'alice', kid);
const random = () => randomBytes(9).toString('base64url');

/** The answer to `res`, or a made-up one with `code` when `broken` says the attack worked. */
const unless = (res: SendResult, broken: string | false): SendResult =>
  broken ? { ...res, body: { code: broken } } : res;

export const KEY_CACHE_SUITE = attackSuite<KeyCacheEnv>({
  name: 'key cache',
  setup: async (adapter: AdapterName) => {
    const t = await createTestApp({
      adapter,
      database: 'sqlite',
      options: { keyCache: { max: 100 }, lastUsedFlushIntervalMs: 3_600_000 },
    });
    const alice = await t.addUser('alice', ['reader']);
    await t.registry.register(alice, ALICE.publicPem, { keyId: 'alice-ed' });
    await t.registry.register(alice, testKey('ed25519', 1).publicPem, { keyId: 'alice-2' });
    return { t };
  },
  teardown: (env) => env.t.close(),
  cases: [
    {
      name: 'keys/random-kids-evict-known-key',
      attack:
        'flood 300 forged JWTs with random kids to push a known key out of the cache, so every request queries',
      request:
        '300 JWTs signed by a stranger with kid=<random>, then a valid JWT of alice: it must cost 0 queries',
      expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
      run: async (env) => {
        if ((await whoami(env, await aliceJwt())).status !== 200) throw new Error('priming request failed');
        let last: SendResult | undefined;
        for (let i = 0; i < 300; i++) {
          const kid = `k-${random()}`;
          last = await whoami(
            env,
            `JWT ${await sign(STRANGER.privateKey, { alg: 'EdDSA', kid }, seedClaims('alice'))}`,
          );
        }
        const before = env.t.queries.count;
        const valid = await whoami(env, await aliceJwt());
        const queries = env.t.queries.count - before;
        return unless(
          last!,
          (valid.status !== 200 || queries > 0) && `KNOWN_KEY_EVICTED (${queries} queries)`,
        );
      },
    },
    {
      name: 'keys/unknown-username-repeated',
      attack: 'send the same kid-less JWT for an unknown username 100 times: each one used to cost a query',
      request: '100 JWTs without kid, {username: <one unknown name>}, signed by a stranger',
      expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
      run: async (env) => {
        const username = `ghost${randomBytes(4).toString('hex')}`;
        const before = env.t.queries.count;
        let last: SendResult | undefined;
        for (let i = 0; i < 100; i++) {
          last = await whoami(
            env,
            `JWT ${await sign(STRANGER.privateKey, { alg: 'EdDSA' }, seedClaims(username))}`,
          );
        }
        const queries = env.t.queries.count - before;
        return unless(last!, queries > 2 && `QUERY_PER_REQUEST (${queries} queries for 100 requests)`);
      },
    },
    {
      name: 'keys/revoked-during-lookup',
      attack:
        'a key revoked while a lookup of it is in flight: the stale read must not come back into the cache',
      request:
        'a JWT of alice-2 whose key read is held open while alice-2 is revoked, then another JWT of alice-2',
      expect: { status: 401, code: 'KEY_REVOKED' },
      run: async (env) => {
        const gate = deferred();
        const held = holdFirstMatchingCall(
          env.t.dataSource.getRepository(PublicKey),
          ['findOne', 'findOneBy'],
          (args) => JSON.stringify(args).includes('alice-2'),
          gate.promise,
        );
        const key2 = testKey('ed25519', 1);
        const jwt2 = () => jwtHeader(key2.privateKey, 'alice', 'alice-2');
        const inFlight = whoami(env, await jwt2()); // reads the row before the revocation
        const timeout = new Promise<false>((r) => setTimeout(() => r(false), 5000).unref());
        if ((await Promise.race([held.then(() => true), timeout])) === false) {
          gate.resolve();
          return unless(await inFlight, 'LOOKUP_NOT_HELD (the test could not hold the key read)');
        }
        await env.t.registry.revoke('alice-2');
        gate.resolve();
        await inFlight; // it arrived before the revocation: either answer is fine
        return whoami(env, await jwt2());
      },
    },
  ],
});
