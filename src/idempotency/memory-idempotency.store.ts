import {
  IdempotencyAcquireRequest,
  IdempotencyAcquireResult,
  IdempotencyLockRef,
  IdempotencyStore,
  IdempotencyStoreUnavailableError,
  StoredResponse,
} from './idempotency-store.interface';
import { assertStoreTtl } from '../stores/store-ttl';

export interface MemoryIdempotencyStoreOptions {
  /** Most records held at once (default 100,000). */
  maxEntries?: number;
  /** Most bytes of stored responses and recovery points held at once (default 64 MiB). */
  maxBytes?: number;
  /** How often expired records are swept (default 60 s). */
  sweepIntervalMs?: number;
}

interface Entry {
  fingerprint: string;
  completed: boolean;
  owner: string | null;
  lockedUntil: number;
  expiresAt: number;
  response: StoredResponse | null;
  recoveryPoint: string | null;
  bytes: number;
}

const OVERHEAD_BYTES = 256;

function sizeOf(entry: Pick<Entry, 'response' | 'recoveryPoint'>): number {
  const response = entry.response;
  let bytes = OVERHEAD_BYTES + (entry.recoveryPoint?.length ?? 0) * 2;
  if (response) {
    bytes += (response.body?.length ?? 0) * 2;
    for (const [name, value] of Object.entries(response.headers)) bytes += (name.length + value.length) * 2;
  }
  return bytes;
}

/**
 * In-process idempotency store: for one instance only, and for tests. Each method
 * runs synchronously to its end, so it is atomic in this process. It never evicts a
 * live record to make room (that would let a retry run twice): when full it refuses
 * with IdempotencyStoreUnavailableError (503). Refused at startup under
 * NODE_ENV=production unless `allowInMemoryStoresInProduction` is set.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly timer: NodeJS.Timeout;
  private bytes = 0;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.timer.unref();
  }

  async acquire(request: IdempotencyAcquireRequest): Promise<IdempotencyAcquireResult> {
    assertStoreTtl(request.lockTtlMs, 'lockTtlMs');
    assertStoreTtl(request.retentionMs, 'retentionMs');
    const id = JSON.stringify([request.scope, request.key]);
    const now = Date.now();
    let entry = this.entries.get(id);
    if (entry && entry.expiresAt <= now) {
      this.remove(id, entry);
      entry = undefined;
    }
    if (!entry) {
      this.makeRoom(now, 1, OVERHEAD_BYTES);
      const created: Entry = {
        fingerprint: request.fingerprint,
        completed: false,
        owner: request.owner,
        lockedUntil: now + request.lockTtlMs,
        expiresAt: now + Math.max(request.retentionMs, request.lockTtlMs),
        response: null,
        recoveryPoint: null,
        bytes: OVERHEAD_BYTES,
      };
      this.entries.set(id, created);
      this.bytes += created.bytes;
      return { outcome: 'acquired', recoveryPoint: null };
    }
    if (entry.fingerprint !== request.fingerprint) return { outcome: 'fingerprint-mismatch' };
    if (entry.completed) return { outcome: 'completed', response: entry.response as StoredResponse };
    if (entry.owner !== null && entry.lockedUntil > now) {
      return { outcome: 'in-progress', retryAfterMs: entry.lockedUntil - now };
    }
    entry.owner = request.owner;
    entry.lockedUntil = now + request.lockTtlMs;
    entry.expiresAt = now + Math.max(request.retentionMs, request.lockTtlMs);
    return { outcome: 'acquired', recoveryPoint: entry.recoveryPoint };
  }

  async complete(lock: IdempotencyLockRef, response: StoredResponse, retentionMs: number): Promise<boolean> {
    assertStoreTtl(retentionMs, 'retentionMs');
    const bytes = sizeOf({ response, recoveryPoint: null });
    // Room first (a sweep may drop this very record if it outlived its retention), then ownership.
    if (this.owned(lock)) this.makeRoom(Date.now(), 0, bytes);
    const entry = this.owned(lock);
    if (!entry) return false;
    this.bytes += bytes - entry.bytes;
    Object.assign(entry, {
      completed: true,
      owner: null,
      lockedUntil: 0,
      expiresAt: Date.now() + retentionMs,
      response,
      recoveryPoint: null,
      bytes,
    });
    return true;
  }

  async release(lock: IdempotencyLockRef): Promise<boolean> {
    const entry = this.owned(lock);
    if (!entry) return false;
    entry.owner = null;
    entry.lockedUntil = 0;
    return true;
  }

  async extend(lock: IdempotencyLockRef, lockTtlMs: number): Promise<boolean> {
    assertStoreTtl(lockTtlMs, 'lockTtlMs');
    const entry = this.owned(lock);
    if (!entry) return false;
    const now = Date.now();
    entry.lockedUntil = now + lockTtlMs;
    entry.expiresAt = Math.max(entry.expiresAt, entry.lockedUntil);
    return true;
  }

  async checkpoint(lock: IdempotencyLockRef, recoveryPoint: string): Promise<boolean> {
    const bytes = sizeOf({ response: null, recoveryPoint });
    if (this.owned(lock)) this.makeRoom(Date.now(), 0, bytes);
    const entry = this.owned(lock);
    if (!entry) return false;
    this.bytes += bytes - entry.bytes;
    entry.recoveryPoint = recoveryPoint;
    entry.bytes = bytes;
    return true;
  }

  /** Records held now (expired ones until the next sweep). */
  get size(): number {
    return this.entries.size;
  }

  sweep(now = Date.now()): void {
    for (const [id, entry] of this.entries) if (entry.expiresAt <= now) this.remove(id, entry);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private owned(lock: IdempotencyLockRef): Entry | undefined {
    const entry = this.entries.get(JSON.stringify([lock.scope, lock.key]));
    return entry && !entry.completed && entry.owner === lock.owner ? entry : undefined;
  }

  private remove(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.bytes -= entry.bytes;
  }

  /** Sweeps when needed; refuses (fails closed) when live records alone exceed the limits. */
  private makeRoom(now: number, extraEntries: number, extraBytes: number): void {
    const fits = () =>
      this.entries.size + extraEntries <= this.maxEntries && this.bytes + extraBytes <= this.maxBytes;
    if (fits()) return;
    this.sweep(now);
    if (!fits()) {
      throw new IdempotencyStoreUnavailableError(
        `memory idempotency store is full (${this.entries.size} records, ${this.bytes} bytes)`,
      );
    }
  }
}
