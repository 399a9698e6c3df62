import { PublicKey, TokenGenerations } from '../../src';
import { TokenGeneration } from '../../src/tokens/token-generation.entity';
import { deferred, holdNextCall } from '../support/held-call';
import { testKey } from '../support/keys';
import { createTestApp, TestApp } from '../support/test-app';
import { seedClaims, sign } from '../support/tokens';

/**
 * A lookup in flight during a revocation must not put the old answer back into the
 * cache (issue 14, item 10). Each test holds a database read open with a deferred
 * promise, revokes meanwhile, then releases the read: the next request must see the
 * revocation, not the stale read (before the fix: accepted for keyCache.ttlSeconds).
 */
describe('a revocation during a lookup in flight is not undone by it', () => {
  let t: TestApp;
  const key = testKey('ed25519', 0);
  const request = async () =>
    fetch(`${t.server}/probe/whoami`, {
      headers: {
        authorization: `JWT ${await sign(key.privateKey, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice'))}`,
      },
    });

  beforeAll(async () => {
    t = await createTestApp({ adapter: 'express', database: 'sqlite' });
    await t.registry.register(await t.addUser('alice', ['reader']), key.publicPem, { keyId: 'alice-ed' });
  });
  afterAll(() => t.close());

  it('a key revoked while its lookup is in flight is refused by the next request', async () => {
    const gate = deferred();
    const held = holdNextCall(t.dataSource.getRepository(PublicKey), 'findOne', gate.promise);
    const inFlight = request(); // its key lookup reads the row before the revocation
    await held;
    await t.registry.revoke('alice-ed');
    gate.resolve();
    expect((await inFlight).status).toBe(200); // it arrived before the revocation
    const next = await request();
    expect([next.status, ((await next.json()) as { code: string }).code]).toEqual([401, 'KEY_REVOKED']);
  });

  it('TokenGenerations: a read overtaken by another instance’s bump is not cached', async () => {
    const user = await t.addUser('tok', ['reader']);
    const here = new TokenGenerations(t.dataSource, { cacheMax: 100, cacheTtlMs: 60_000 });
    const elsewhere = new TokenGenerations(t.dataSource, { cacheMax: 100, cacheTtlMs: 60_000 });
    const gate = deferred();
    const held = holdNextCall(t.dataSource.getRepository(TokenGeneration), 'findOneBy', gate.promise);
    const stale = here.current(user.id); // reads generation 0
    await held;
    await elsewhere.bump(user.id); // revoke-tokens on another instance: generation 1
    here.forget(user.id); // ... whose invalidation message arrives here
    gate.resolve();
    await stale;
    expect(await here.current(user.id)).toBe(1);
  });
});
