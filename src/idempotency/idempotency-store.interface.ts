import { Inject } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

/** What is kept of a finished request and sent again to its retries. */
export interface StoredResponse {
  /** HTTP status of the first answer. */
  readonly status: number;
  /** The replayable subset of its headers (lowercase names), e.g. `location`. */
  readonly headers: Readonly<Record<string, string>>;
  /** JSON text of the handler's result (2xx/3xx) or of the error body (4xx); null for no body. */
  readonly body: string | null;
}

/** One idempotency record as held by its current owner. */
export interface IdempotencyLockRef {
  /** Whose keys these are (the interceptor uses `user:<SecurityContext.user.id>`). */
  readonly scope: string;
  /** The Idempotency-Key value. */
  readonly key: string;
  /** Random token of the attempt that holds the lock; every write is conditional on it. */
  readonly owner: string;
}

export interface IdempotencyAcquireRequest extends IdempotencyLockRef {
  /** Hash of what the request asks for (method, path, body); a different one is a reused key. */
  readonly fingerprint: string;
  /** How long the lock lasts unless extended: a crashed owner's lock frees itself after this. */
  readonly lockTtlMs: number;
  /** How long the record (and later its response) is kept. Longer than lockTtlMs. */
  readonly retentionMs: number;
}

export type IdempotencyAcquireResult =
  /** The caller holds the lock. `recoveryPoint` is what a previous owner saved with checkpoint(), if any. */
  | { readonly outcome: 'acquired'; readonly recoveryPoint: string | null }
  /** Another attempt holds an unexpired lock. */
  | { readonly outcome: 'in-progress'; readonly retryAfterMs: number }
  /** Finished before: replay this. */
  | { readonly outcome: 'completed'; readonly response: StoredResponse }
  /** The key exists with another fingerprint. */
  | { readonly outcome: 'fingerprint-mismatch' };

/**
 * Where idempotency records live. Every operation is one atomic step (a conditional
 * statement, a Lua script, a synchronous map update), never get-then-set, so that
 * two instances can never both own a key. Writes after `acquire` are conditional on
 * the owner token: an attempt whose lock expired and was taken over can no longer
 * complete, extend or checkpoint. Rejects (IdempotencyStoreUnavailableError) when
 * the store cannot answer.
 *
 * Record life: absent → in progress (locked by an owner) → completed (response kept)
 * until `retentionMs` after completion. `release` unlocks an in-progress record but
 * keeps its fingerprint and recovery point, so the same request can be retried and
 * resume, and a different one with the same key is still refused.
 */
export interface IdempotencyStore {
  /**
   * Creates the record locked by `owner`, or takes over an unlocked/expired-lock record
   * with the same fingerprint, or reports why not. A record past its retention counts
   * as absent.
   */
  acquire(request: IdempotencyAcquireRequest): Promise<IdempotencyAcquireResult>;
  /**
   * Marks the record completed with `response`, kept for `retentionMs`. False if `owner`
   * no longer holds it. With `transaction` (TypeORM stores only) the write joins that
   * transaction, so it commits or rolls back with the business change.
   */
  complete(
    lock: IdempotencyLockRef,
    response: StoredResponse,
    retentionMs: number,
    transaction?: EntityManager,
  ): Promise<boolean>;
  /** Unlocks the record (the attempt failed without an outcome worth keeping). False if not the owner. */
  release(lock: IdempotencyLockRef): Promise<boolean>;
  /** Pushes the lock expiry to now + lockTtlMs while the handler runs. False if not the owner. */
  extend(lock: IdempotencyLockRef, lockTtlMs: number, transaction?: EntityManager): Promise<boolean>;
  /** Saves an opaque recovery point (last completed step) on the locked record. False if not the owner. */
  checkpoint(lock: IdempotencyLockRef, recoveryPoint: string): Promise<boolean>;
}

/** DI token of the IdempotencyStore. */
export const IDEMPOTENCY_STORE = Symbol('KEYPAIR_AUTH_IDEMPOTENCY_STORE');

/** The token, for `{ provide: getIdempotencyStoreToken(), useValue: … }` and `moduleRef.get()`. */
export function getIdempotencyStoreToken(): symbol {
  return IDEMPOTENCY_STORE;
}

/** `constructor(@InjectIdempotencyStore() store: IdempotencyStore)`. */
export const InjectIdempotencyStore = (): PropertyDecorator & ParameterDecorator => Inject(IDEMPOTENCY_STORE);

/** The store could not answer (unreachable, full): the request is refused with 503. */
export class IdempotencyStoreUnavailableError extends Error {
  override readonly name = 'IdempotencyStoreUnavailableError';
}

/**
 * The fixed-size id stores use for a (scope, key) pair: SHA-256 over an unambiguous
 * encoding, so `("ab","c")` and `("a","bc")` never meet and any key fits a column.
 */
export function idempotencyRecordId(scope: string, key: string): string {
  return createHash('sha256')
    .update(JSON.stringify([scope, key]))
    .digest('hex');
}
