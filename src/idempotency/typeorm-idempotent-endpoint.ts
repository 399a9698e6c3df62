import type { EntityManager } from 'typeorm';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { requireIdempotencyAttempt } from './idempotency-attempt';
import { TypeOrmIdempotencyStore } from './typeorm-idempotency.store';

/**
 * An idempotent write to the database whose idempotency record commits in the SAME
 * transaction as the change: a crash or an error anywhere in between rolls both back,
 * so there is never a change without its record (charged but unrecorded) nor a record
 * without its change. Inside the transaction:
 *
 *   extend the lock (conditional on the owner; on PostgreSQL this also locks the
 *   record row until commit, so no other attempt can take the key over meanwhile)
 *   → loadState(input, manager) → updateState(state, input, manager) → getResponse(state)
 *   → complete the record with that response (conditional on the owner)
 *
 * If the lock was lost (taken over after it expired) nothing commits and the client
 * gets 409 IDEMPOTENCY_IN_PROGRESS. Runs on the store's DataSource, so it needs
 * `idempotency.store` to be a TypeOrmIdempotencyStore (the default) on the DataSource
 * of your tables. Use the `manager` for every read and write of the change.
 */
export abstract class TypeOrmIdempotentEndpoint<Input, State, Result> {
  protected abstract loadState(input: Input, manager: EntityManager): Promise<State> | State;
  protected abstract updateState(state: State, input: Input, manager: EntityManager): Promise<State> | State;
  protected abstract getResponse(state: State, input: Input): Promise<Result> | Result;

  async execute(input: Input): Promise<Result> {
    const who = this.constructor.name;
    const attempt = requireIdempotencyAttempt(who);
    const store = attempt.store;
    if (!(store instanceof TypeOrmIdempotencyStore)) {
      throw ConfigError.create(
        `${who} is a TypeOrmIdempotentEndpoint but idempotency.store is a ${store.constructor.name}, so the ` +
          'record could not commit with the change.',
        'Leave idempotency.store out (the TypeORM store on the key DataSource) or pass a TypeOrmIdempotencyStore ' +
          'on the DataSource of your tables; or extend IdempotentEndpoint instead.',
      );
    }
    const result = await store
      .transaction(async (manager) => {
        if (!(await store.extend(attempt.lock, attempt.lockTtlMs, manager))) throw attempt.lockLost();
        attempt.inTransaction = true;
        const state = await this.loadState(input, manager);
        const updated = await this.updateState(state, input, manager);
        const response = await this.getResponse(updated, input);
        if (
          !(await store.complete(attempt.lock, attempt.responseFor(response), attempt.retentionMs, manager))
        ) {
          throw attempt.lockLost();
        }
        return response;
      })
      .finally(() => (attempt.inTransaction = false));
    attempt.markCompleted();
    return result;
  }
}
