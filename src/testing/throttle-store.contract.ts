/// <reference types="jest" />
import type { ThrottleStore } from '../throttle/throttle-store.interface';

/**
 * The ThrottleStore contract, as a Jest suite every implementation runs (ours and
 * yours): `throttleStoreContract('my store', async () => ({ store, close }))`.
 * It needs Jest's globals (`describe`, `it`, `expect`, `beforeAll`, `afterAll`).
 */
export function throttleStoreContract(
  name: string,
  factory: () => Promise<{ store: ThrottleStore; close?: () => Promise<void> }>,
): void {
  describe(`ThrottleStore contract: ${name}`, () => {
    let store: ThrottleStore;
    let close: (() => Promise<void>) | undefined;
    const unique = () => `t-${Math.random().toString(36).slice(2)}-${Date.now()}`;

    beforeAll(async () => {
      ({ store, close } = await factory());
    });
    afterAll(async () => {
      await close?.();
    });

    it('counts hits of one key within a window, from 1', async () => {
      const key = unique();
      const hits = [];
      for (let i = 0; i < 3; i++) hits.push(await store.hit(key, 10_000));
      expect(hits.map((h) => h.count)).toEqual([1, 2, 3]);
      for (const hit of hits) {
        expect(hit.resetInMs).toBeGreaterThan(0);
        expect(hit.resetInMs).toBeLessThanOrEqual(10_000);
      }
    });

    it.each([NaN, Infinity, -1, 0])(
      'refuses a window of %p with a RangeError, and counts nothing',
      async (ms) => {
        const key = unique();
        await expect(store.hit(key, ms)).rejects.toThrow(RangeError);
        await expect(store.hit(key, 10_000)).resolves.toMatchObject({ count: 1 });
      },
    );

    it('keeps keys apart', async () => {
      const key = unique();
      await store.hit(key, 10_000);
      await expect(store.hit(`${key}x`, 10_000)).resolves.toMatchObject({ count: 1 });
    });

    it('starts again from zero once the window is over, and not before', async () => {
      const key = unique();
      await store.hit(key, 300);
      await expect(store.hit(key, 300)).resolves.toMatchObject({ count: 2 });
      await new Promise((r) => setTimeout(r, 450));
      await expect(store.hit(key, 300)).resolves.toMatchObject({ count: 1 });
    });

    it('does not extend a window with later hits (fixed windows)', async () => {
      const key = unique();
      const first = await store.hit(key, 400);
      await new Promise((r) => setTimeout(r, 150));
      const later = await store.hit(key, 400);
      expect(later.resetInMs).toBeLessThanOrEqual(first.resetInMs - 100);
    });

    it('counts every one of many parallel hits exactly once', async () => {
      const key = unique();
      const hits = await Promise.all(Array.from({ length: 50 }, () => store.hit(key, 10_000)));
      expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });

    it('accepts long keys', async () => {
      await expect(store.hit(`k:${'x'.repeat(600)}`, 1000)).resolves.toMatchObject({ count: 1 });
    });
  });
}
