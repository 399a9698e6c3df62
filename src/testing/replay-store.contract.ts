/// <reference types="jest" />
import type { ReplayStore } from '../stores/replay-store.interface';

/**
 * The ReplayStore contract, as a Jest suite every implementation runs (ours and
 * yours): `replayStoreContract('my store', async () => ({ store, close }))`.
 * It needs Jest's globals (`describe`, `it`, `expect`, `beforeAll`, `afterAll`).
 */
export function replayStoreContract(
  name: string,
  factory: () => Promise<{ store: ReplayStore; close?: () => Promise<void> }>,
): void {
  describe(`ReplayStore contract: ${name}`, () => {
    let store: ReplayStore;
    let close: (() => Promise<void>) | undefined;
    const unique = () => `n-${Math.random().toString(36).slice(2)}-${Date.now()}`;

    beforeAll(async () => {
      ({ store, close } = await factory());
    });
    afterAll(async () => {
      await close?.();
    });

    it('claims a new nonce once', async () => {
      const nonce = unique();
      await expect(store.claim('scope-a', nonce, 10_000)).resolves.toBe(true);
      await expect(store.claim('scope-a', nonce, 10_000)).resolves.toBe(false);
    });

    it('keeps scopes apart', async () => {
      const nonce = unique();
      await expect(store.claim('scope-a', nonce, 10_000)).resolves.toBe(true);
      await expect(store.claim('scope-b', nonce, 10_000)).resolves.toBe(true);
    });

    it('does not confuse scope and nonce boundaries', async () => {
      const n = unique();
      await expect(store.claim('ab', `c${n}`, 10_000)).resolves.toBe(true);
      await expect(store.claim('a', `bc${n}`, 10_000)).resolves.toBe(true);
    });

    it('frees a nonce once its time is up, and not before', async () => {
      const nonce = unique();
      await expect(store.claim('scope-exp', nonce, 300)).resolves.toBe(true);
      await expect(store.claim('scope-exp', nonce, 300)).resolves.toBe(false);
      await new Promise((r) => setTimeout(r, 450));
      await expect(store.claim('scope-exp', nonce, 300)).resolves.toBe(true);
      await expect(store.claim('scope-exp', nonce, 300)).resolves.toBe(false);
    });

    it('lets exactly one of many parallel claims of one nonce win', async () => {
      for (let round = 0; round < 5; round++) {
        const nonce = unique();
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.claim('race', nonce, 10_000)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      }
    });

    it('lets exactly one parallel claim of an expired nonce win', async () => {
      const nonce = unique();
      await store.claim('race-exp', nonce, 100);
      await new Promise((r) => setTimeout(r, 200));
      const results = await Promise.all(
        Array.from({ length: 30 }, () => store.claim('race-exp', nonce, 10_000)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it.each([NaN, Infinity, -Infinity, -1, 0])(
      'refuses a TTL of %p with a RangeError, and stores nothing',
      async (ttl) => {
        const nonce = unique();
        await expect(store.claim('scope-ttl', nonce, ttl)).rejects.toThrow(RangeError);
        await expect(store.claim('scope-ttl', nonce, 10_000)).resolves.toBe(true);
      },
    );

    it('accepts long and unusual nonces', async () => {
      const nonce = `${'x'.repeat(256)}\u0000'";--\u00e9`;
      await expect(store.claim('odd', nonce, 10_000)).resolves.toBe(true);
      await expect(store.claim('odd', nonce, 10_000)).resolves.toBe(false);
    });
  });
}
