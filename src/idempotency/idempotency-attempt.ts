import { AsyncLocalStorage } from 'node:async_hooks';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import type { IdempotencyLockRef, IdempotencyStore, StoredResponse } from './idempotency-store.interface';

/**
 * The attempt of one request that holds an idempotency lock, as the interceptor hands
 * it to the code the route runs (through AsyncLocalStorage, so handlers need not pass
 * it along). The IdempotentEndpoint classes use it; so can your own code.
 */
export class IdempotencyAttempt {
  private completedFlag = false;
  private lostFlag = false;
  /**
   * Set while a transaction that holds the record's row runs (TypeOrmIdempotentEndpoint):
   * the heartbeat then pauses, since its UPDATE would only wait for that transaction.
   */
  inTransaction = false;

  constructor(
    readonly store: IdempotencyStore,
    readonly lock: IdempotencyLockRef,
    readonly lockTtlMs: number,
    readonly retentionMs: number,
    /** What a previous attempt of this request saved with checkpoint(), if it crashed or failed. */
    readonly recoveryPoint: string | null,
    private readonly capture: (value: unknown) => StoredResponse,
    private readonly lostLock: () => Error,
  ) {}

  /** The stored form of `value` as this route would answer it (status, replayed headers, JSON body). */
  responseFor(value: unknown): StoredResponse {
    return this.capture(value);
  }

  /** True once the record was completed (by the interceptor, or in a transaction that committed). */
  get completed(): boolean {
    return this.completedFlag;
  }

  markCompleted(): void {
    this.completedFlag = true;
  }

  /** True once a write conditional on the owner failed: another attempt took the key over. */
  get lost(): boolean {
    return this.lostFlag;
  }

  /** Records that the lock is gone and returns the error to throw (409 IDEMPOTENCY_IN_PROGRESS). */
  lockLost(): Error {
    this.lostFlag = true;
    return this.lostLock();
  }
}

const storage = new AsyncLocalStorage<IdempotencyAttempt>();

/** Runs `fn` with `attempt` as the current one. */
export function runWithIdempotencyAttempt<T>(attempt: IdempotencyAttempt, fn: () => T): T {
  return storage.run(attempt, fn);
}

/** The attempt of the @Idempotent() route being handled, if any. */
export function currentIdempotencyAttempt(): IdempotencyAttempt | undefined {
  return storage.getStore();
}

/** The current attempt; a clear error when the code runs outside an @Idempotent() route. */
export function requireIdempotencyAttempt(who: string): IdempotencyAttempt {
  const attempt = storage.getStore();
  if (!attempt) {
    throw ConfigError.create(
      `${who} ran outside an @Idempotent() route with an Idempotency-Key, so it would run without the idempotency lock.`,
      'Decorate the route with @Idempotent() (keys required), and call it from the route handler.',
    );
  }
  if (attempt.completed) {
    throw ConfigError.create(
      `${who} ran twice in one request.`,
      'Call one idempotent endpoint once per request.',
    );
  }
  return attempt;
}
