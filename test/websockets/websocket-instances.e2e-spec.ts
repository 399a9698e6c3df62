import { createRedisClient, RedisCacheInvalidationBus } from '../../src/redis';
import { signRequest } from '../../src/client';
import { haveService, REDIS_URL } from '../setup/services';
import { testKey } from '../support/keys';
import { connect, createWsTestApp, FLAVOURS, WsTestApp } from './websocket-test-app';

/**
 * Two instances sharing a RedisCacheInvalidationBus, each with its own database (so the
 * test writes the revocation into B's as a shared database would show it). keyCache.ttlSeconds
 * is 60: a close within a second can only come from the bus.
 * Skipped only without a Redis server (the global setup warns, and fails the run under
 * REQUIRE_SERVICES=1, as for every test that needs a real service).
 */
(haveService('redis') ? describe.each(FLAVOURS) : describe.skip.each(FLAVOURS))(
  'WebSockets across two instances sharing a RedisCacheInvalidationBus, over %s',
  (flavour) => {
    const key = testKey('ed25519', 0);
    const channel = `kpa-test:ws-bus:${flavour}:${Date.now()}`;
    const redis = createRedisClient(REDIS_URL);
    let a: WsTestApp;
    let b: WsTestApp;

    beforeAll(async () => {
      [a, b] = await Promise.all(
        [0, 1].map(() =>
          createWsTestApp({
            http: 'express',
            flavour,
            options: { keyCache: { ttlSeconds: 60 } },
            cacheInvalidation: new RedisCacheInvalidationBus(redis, channel),
          }),
        ),
      );
      for (const t of [a, b])
        await t.registry.register(await t.addUser('alice', ['reader']), key.publicPem, { keyId: 'alice-ed' });
      // The bus subscribes once its Redis connection is ready, which may be after startup: wait until B hears A.
      let heard = false;
      b.registry.onInvalidation((event) => (heard ||= event.kind === 'user' && event.userId === 'bus-probe'));
      for (let i = 0; i < 100 && !heard; i++) {
        a.registry.forgetUser('bus-probe');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(heard).toBe(true);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      redis.disconnect();
    });

    it('a key revoked on instance A closes its connection on instance B at once (not after keyCache.ttlSeconds)', async () => {
      const result = await connect(
        b,
        signRequest({ method: 'GET', url: b.handshakeUrl }, { keyId: 'alice-ed', privateKey: key.privateKey })
          .headers,
      );
      if (!result.open) throw new Error(`refused: ${result.status}`);
      expect((await result.client.request('whoami')).data).toMatchObject({ keyId: 'alice-ed' });
      // The shared database, as B reads it: revoked. B's cache still holds the key for 60 s.
      await b.dataSource.query('UPDATE keypair_auth_public_keys SET revokedAt = ? WHERE keyId = ?', [
        Date.now(),
        'alice-ed',
      ]);
      const revokedAt = Date.now();
      await a.registry.revoke('alice-ed');
      const closed = await result.client.closed;
      expect(closed).toMatchObject({ code: 4401, reason: 'KEY_REVOKED' });
      expect(closed.at - revokedAt).toBeLessThan(1000);
    });
  },
);
