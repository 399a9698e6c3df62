/// <reference types="jest" />
import { randomBytes } from 'node:crypto';
import type {
  IdempotencyAcquireRequest,
  IdempotencyLockRef,
  IdempotencyStore,
  StoredResponse,
} from '../idempotency/idempotency-store.interface';

/**
 * The IdempotencyStore contract, as a Jest suite every implementation runs (ours and
 * yours): `idempotencyStoreContract('my store', async () => ({ store, close }))`.
 * It needs Jest's globals. Timing tests use lock TTLs of a few hundred milliseconds.
 */
export function idempotencyStoreContract(
  name: string,
  factory: () => Promise<{ store: IdempotencyStore; close?: () => Promise<void> }>,
): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let store: IdempotencyStore;
    let close: (() => Promise<void>) | undefined;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const token = () => randomBytes(16).toString('hex');
    const uniqueKey = () => `key-${token()}`;
    const request = (over: Partial<IdempotencyAcquireRequest> = {}): IdempotencyAcquireRequest => ({
      scope: 'user:alice',
      key: uniqueKey(),
      fingerprint: 'f'.repeat(64),
      owner: token(),
      lockTtlMs: 10_000,
      retentionMs: 60_000,
      ...over,
    });
    const lockOf = (r: IdempotencyAcquireRequest): IdempotencyLockRef => ({
      scope: r.scope,
      key: r.key,
      owner: r.owner,
    });
    const response: StoredResponse = {
      status: 201,
      headers: { location: '/transfers/1', 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ id: 1, note: 'é ünïcode "quoted"' }),
    };

    beforeAll(async () => {
      ({ store, close } = await factory());
    });
    afterAll(async () => {
      await close?.();
    });

    it('acquires a new key, then reports it in progress with the time left', async () => {
      const first = request();
      await expect(store.acquire(first)).resolves.toEqual({ outcome: 'acquired', recoveryPoint: null });
      const second = await store.acquire({ ...first, owner: token() });
      expect(second.outcome).toBe('in-progress');
      const left = (second as { retryAfterMs: number }).retryAfterMs;
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(10_000);
    });

    it.each([NaN, Infinity, -1, 0])(
      'refuses a lock TTL or retention of %p with a RangeError, and writes nothing',
      async (ms) => {
        const first = request();
        await expect(store.acquire({ ...first, lockTtlMs: ms })).rejects.toThrow(RangeError);
        await expect(store.acquire({ ...first, retentionMs: ms })).rejects.toThrow(RangeError);
        await expect(store.acquire(first)).resolves.toEqual({ outcome: 'acquired', recoveryPoint: null });
        await expect(store.extend(lockOf(first), ms)).rejects.toThrow(RangeError);
        await expect(store.complete(lockOf(first), response, ms)).rejects.toThrow(RangeError);
        await expect(store.complete(lockOf(first), response, 60_000)).resolves.toBe(true);
      },
    );

    it('stores the response on complete and returns it exactly to later acquires', async () => {
      const r = request();
      await store.acquire(r);
      await expect(store.complete(lockOf(r), response, 60_000)).resolves.toBe(true);
      await expect(store.acquire({ ...r, owner: token() })).resolves.toEqual({
        outcome: 'completed',
        response,
      });
      // A completed record is no longer owned: none of the owner's writes apply.
      await expect(store.complete(lockOf(r), response, 60_000)).resolves.toBe(false);
      await expect(store.release(lockOf(r))).resolves.toBe(false);
      await expect(store.extend(lockOf(r), 1000)).resolves.toBe(false);
    });

    it('stores 4xx outcomes and bodyless responses alike', async () => {
      const r = request();
      await store.acquire(r);
      const error: StoredResponse = { status: 404, headers: {}, body: '{"code":"ACCOUNT_NOT_FOUND"}' };
      await store.complete(lockOf(r), error, 60_000);
      await expect(store.acquire(request({ key: r.key }))).resolves.toEqual({
        outcome: 'completed',
        response: error,
      });
      const empty = request();
      await store.acquire(empty);
      await store.complete(lockOf(empty), { status: 204, headers: {}, body: null }, 60_000);
      await expect(store.acquire(request({ key: empty.key }))).resolves.toEqual({
        outcome: 'completed',
        response: { status: 204, headers: {}, body: null },
      });
    });

    it('refuses the same key with another fingerprint, in progress and completed', async () => {
      const r = request();
      await store.acquire(r);
      await expect(store.acquire(request({ key: r.key, fingerprint: 'e'.repeat(64) }))).resolves.toEqual({
        outcome: 'fingerprint-mismatch',
      });
      await store.complete(lockOf(r), response, 60_000);
      await expect(store.acquire(request({ key: r.key, fingerprint: 'e'.repeat(64) }))).resolves.toEqual({
        outcome: 'fingerprint-mismatch',
      });
    });

    it('keeps scopes apart, without confusing scope and key boundaries', async () => {
      const key = uniqueKey();
      await expect(store.acquire(request({ scope: 'user:a', key }))).resolves.toMatchObject({
        outcome: 'acquired',
      });
      await expect(store.acquire(request({ scope: 'user:b', key }))).resolves.toMatchObject({
        outcome: 'acquired',
      });
      await expect(store.acquire(request({ scope: 'user:ab', key: `c${key}` }))).resolves.toMatchObject({
        outcome: 'acquired',
      });
      await expect(store.acquire(request({ scope: 'user:a', key: `bc${key}` }))).resolves.toMatchObject({
        outcome: 'acquired',
      });
    });

    it('only the owner completes, releases, extends or checkpoints', async () => {
      const r = request();
      await store.acquire(r);
      const intruder = { ...lockOf(r), owner: token() };
      await expect(store.complete(intruder, response, 60_000)).resolves.toBe(false);
      await expect(store.release(intruder)).resolves.toBe(false);
      await expect(store.extend(intruder, 60_000)).resolves.toBe(false);
      await expect(store.checkpoint(intruder, 'x')).resolves.toBe(false);
      await expect(store.acquire(request({ key: r.key }))).resolves.toMatchObject({ outcome: 'in-progress' });
    });

    it('after release the same request can be retried at once, and the old owner is fenced out', async () => {
      const r = request();
      await store.acquire(r);
      await expect(store.release(lockOf(r))).resolves.toBe(true);
      const retry = request({ key: r.key });
      await expect(store.acquire(retry)).resolves.toEqual({ outcome: 'acquired', recoveryPoint: null });
      await expect(store.complete(lockOf(r), response, 60_000)).resolves.toBe(false);
      await expect(store.complete(lockOf(retry), response, 60_000)).resolves.toBe(true);
    });

    it('a released key still refuses a different payload', async () => {
      const r = request();
      await store.acquire(r);
      await store.release(lockOf(r));
      await expect(store.acquire(request({ key: r.key, fingerprint: 'd'.repeat(64) }))).resolves.toEqual({
        outcome: 'fingerprint-mismatch',
      });
    });

    it('frees the key of a crashed owner when its lock expires, and fences the crashed owner out', async () => {
      const r = request({ lockTtlMs: 150 });
      await store.acquire(r);
      await expect(store.acquire(request({ key: r.key }))).resolves.toMatchObject({ outcome: 'in-progress' });
      await sleep(250);
      const next = request({ key: r.key });
      await expect(store.acquire(next)).resolves.toEqual({ outcome: 'acquired', recoveryPoint: null });
      await expect(store.extend(lockOf(r), 10_000)).resolves.toBe(false);
      await expect(store.complete(lockOf(r), response, 60_000)).resolves.toBe(false);
      await expect(store.complete(lockOf(next), response, 60_000)).resolves.toBe(true);
    });

    it('extend keeps a lock alive beyond its first TTL', async () => {
      const r = request({ lockTtlMs: 200 });
      await store.acquire(r);
      await sleep(100);
      await expect(store.extend(lockOf(r), 1000)).resolves.toBe(true);
      await sleep(200);
      await expect(store.acquire(request({ key: r.key }))).resolves.toMatchObject({ outcome: 'in-progress' });
    });

    it('hands the last checkpoint to the attempt that takes over', async () => {
      const r = request({ lockTtlMs: 150 });
      await store.acquire(r);
      await expect(store.checkpoint(lockOf(r), '{"step":"charge"}')).resolves.toBe(true);
      await expect(store.checkpoint(lockOf(r), '{"step":"email"}')).resolves.toBe(true);
      await sleep(250);
      await expect(store.acquire(request({ key: r.key }))).resolves.toEqual({
        outcome: 'acquired',
        recoveryPoint: '{"step":"email"}',
      });
      const released = request();
      await store.acquire(released);
      await store.checkpoint(lockOf(released), 'step-1');
      await store.release(lockOf(released));
      await expect(store.acquire(request({ key: released.key }))).resolves.toEqual({
        outcome: 'acquired',
        recoveryPoint: 'step-1',
      });
    });

    it('forgets a completed key after its retention, and then treats it as new', async () => {
      const r = request({ lockTtlMs: 100, retentionMs: 1000 });
      await store.acquire(r);
      await store.complete(lockOf(r), response, 200);
      await expect(store.acquire(request({ key: r.key }))).resolves.toMatchObject({ outcome: 'completed' });
      await sleep(300);
      await expect(store.acquire(request({ key: r.key, fingerprint: 'c'.repeat(64) }))).resolves.toEqual({
        outcome: 'acquired',
        recoveryPoint: null,
      });
    });

    it('lets exactly one of many parallel acquires of one key win', async () => {
      for (let round = 0; round < 5; round++) {
        const key = uniqueKey();
        const results = await Promise.all(Array.from({ length: 50 }, () => store.acquire(request({ key }))));
        expect(results.filter((x) => x.outcome === 'acquired')).toHaveLength(1);
        expect(results.filter((x) => x.outcome === 'in-progress')).toHaveLength(49);
      }
    });

    it('lets exactly one of many parallel takeovers of an expired lock win', async () => {
      const first = request({ lockTtlMs: 80 });
      await store.acquire(first);
      await sleep(150);
      const results = await Promise.all(
        Array.from({ length: 30 }, () => store.acquire(request({ key: first.key }))),
      );
      expect(results.filter((x) => x.outcome === 'acquired')).toHaveLength(1);
    });

    it('never lets a late complete and a takeover both succeed', async () => {
      for (let round = 0; round < 6; round++) {
        const first = request({ lockTtlMs: 40 });
        await store.acquire(first);
        await sleep(60);
        const second = request({ key: first.key });
        const [completed, taken] = await Promise.all([
          store.complete(lockOf(first), response, 60_000),
          store.acquire(second),
        ]);
        if (completed) expect(taken).toEqual({ outcome: 'completed', response });
        else expect(taken).toEqual({ outcome: 'acquired', recoveryPoint: null });
      }
    });

    it('keeps a 1 MiB body and unusual keys intact', async () => {
      const big: StoredResponse = {
        status: 200,
        headers: {},
        body: JSON.stringify('x'.repeat(1024 * 1024 - 2)),
      };
      const key = `${'k'.repeat(200)}'";--\\ \u00e9\u0000`;
      const r = request({ key });
      await store.acquire(r);
      await expect(store.complete(lockOf(r), big, 60_000)).resolves.toBe(true);
      await expect(store.acquire(request({ key }))).resolves.toEqual({ outcome: 'completed', response: big });
    });
  });
}
