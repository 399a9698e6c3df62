import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MemoryReplayStore } from '../src/stores/memory-replay.store';
import { ReplayStoreUnavailableError } from '../src/stores/replay-store.interface';

/*
 * Memory cost of one nonce in MemoryReplayStore (V8 heap plus ArrayBuffers, where its
 * typed arrays live), in a child process started by
 * bench/scale.ts with --expose-gc (nothing else lives in this heap):
 *
 * 1. gc(), heapUsed + arrayBuffers; claim N nonces of the shape the JWT strategy claims
 *    (scope `jwt:<user uuid>` built per request, 22-character base64url nonce,
 *    TTL 41 s); gc(), the same reading again: (after - before) / N bytes per nonce.
 * 2. Fill the store up to its default capacity (maxEntries 1,000,000), read
 *    again (the store at capacity), then time claims made while it is full:
 *    each one sweeps every entry (all live) before it is refused with 503.
 *
 * Bounded in time: the parent kills this process after 90 s. Prints one JSON line.
 */

declare const gc: () => void;

export interface MemoryReport {
  nonces: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  bytesPerNonce: number;
  claimMsPerNonce: number;
  /** null if filling to capacity was skipped (fillToCapacity false). */
  capacity: null | {
    maxEntries: number;
    heapAtCapacityBytes: number;
    bytesPerNonceAtCapacity: number;
    /** Time of one claim refused because the store is full of live nonces (median of 5). */
    refusedClaimMs: number;
    refusedClaimsMs: number[];
  };
}

/** V8 heap plus ArrayBuffer memory: the store keeps its nonces in typed arrays, outside the heap. */
function collect(): number {
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

async function main(): Promise<void> {
  const n = Number(process.env.BENCH_NONCES ?? 200_000);
  const fill = process.env.BENCH_FILL !== '0';
  const deadline = Date.now() + 80_000;
  const maxEntries = 1_000_000; // MemoryReplayStore's default, stated here to report it
  // A thousand accounts; the scope string is built per claim, as the strategy does (`jwt:${user.id}`).
  const users = Array.from({ length: 1000 }, () => randomUUID());
  const store = new MemoryReplayStore();
  const claim = (i: number) =>
    store.claim(`jwt:${users[i % users.length]}`, randomBytes(16).toString('base64url'), 41_000);

  const before = collect();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (!(await claim(i))) throw new Error('a fresh nonce was refused');
  }
  const claimMs = performance.now() - t0;
  const after = collect();
  if (store.size !== n) throw new Error(`store holds ${store.size}, expected ${n}`);

  let capacity: MemoryReport['capacity'] = null;
  if (fill) {
    for (let i = n; i < maxEntries; i++) {
      await claim(i);
      if ((i & 0xffff) === 0 && Date.now() > deadline) throw new Error('filling the store took too long');
    }
    const atCapacity = collect();
    const refused: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      try {
        await claim(maxEntries + k);
        throw new Error('a claim on a full store was accepted');
      } catch (error) {
        if (!(error instanceof ReplayStoreUnavailableError)) throw error;
      }
      refused.push(performance.now() - t);
    }
    const sorted = [...refused].sort((a, b) => a - b);
    capacity = {
      maxEntries,
      heapAtCapacityBytes: atCapacity,
      bytesPerNonceAtCapacity: (atCapacity - before) / maxEntries,
      refusedClaimMs: sorted[2],
      refusedClaimsMs: refused,
    };
  }
  store.close();
  const report: MemoryReport = {
    nonces: n,
    heapBeforeBytes: before,
    heapAfterBytes: after,
    bytesPerNonce: (after - before) / n,
    claimMsPerNonce: claimMs / n,
    capacity,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
