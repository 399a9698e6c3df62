import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { IdempotencyRecord } from './idempotency-record.entity';
import {
  idempotencyRecordId,
  IdempotencyAcquireRequest,
  IdempotencyAcquireResult,
  IdempotencyLockRef,
  IdempotencyStore,
  IdempotencyStoreUnavailableError,
  StoredResponse,
} from './idempotency-store.interface';
import { isSingleConnection, runInTransaction, serialized } from './typeorm-transaction';
import { assertStoreTtl } from '../stores/store-ttl';

export interface TypeOrmIdempotencyStoreOptions {
  /** How often expired records are deleted, at most (default 60 s). */
  sweepIntervalMs?: number;
}

/**
 * Idempotency records in the app's database (table `keypair_auth_idempotency_keys`,
 * migration KeypairAuthIdempotency1734000000000), on SQLite and PostgreSQL.
 *
 * - Creating a record is a primary-key INSERT: of many concurrent first attempts
 *   exactly one succeeds, on one instance or many.
 * - Taking over a record (lock expired or released, or retention over) is ONE
 *   conditional UPDATE; on PostgreSQL concurrent takeovers serialize on the row and
 *   re-check the condition, so again one wins.
 * - complete/release/extend/checkpoint are UPDATEs conditional on the owner token.
 *   complete() and extend() can join a transaction (the EntityManager of
 *   TypeOrmIdempotentEndpoint), so the record and the business change commit together.
 * - On SQLite (one shared connection in TypeORM) every statement of this store and
 *   every idempotent transaction is serialized, so none lands in another's transaction.
 */
export class TypeOrmIdempotencyStore implements IdempotencyStore {
  private lastSweep = 0;
  private readonly sweepIntervalMs: number;

  constructor(
    readonly dataSource: DataSource,
    options: TypeOrmIdempotencyStoreOptions = {},
  ) {
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  /**
   * Runs `fn` in a transaction of this store's DataSource (serialized on SQLite).
   * Pass its EntityManager to complete()/extend() to make them part of it.
   */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return runInTransaction(this.dataSource, fn);
  }

  async acquire(request: IdempotencyAcquireRequest): Promise<IdempotencyAcquireResult> {
    assertStoreTtl(request.lockTtlMs, 'lockTtlMs');
    assertStoreTtl(request.retentionMs, 'retentionMs');
    return this.guard(async () => {
      if (isSingleConnection(this.dataSource)) {
        // SQLite: a retry that meets a running attempt should get its 409 now, not wait
        // behind that attempt's transaction. A read on the shared connection may see
        // uncommitted rows, so it may only refuse ("running", "other payload"); every
        // other answer is decided in turn.
        const refusal = await this.peek(request);
        if (refusal) return refusal;
      }
      return serialized(this.dataSource, () => this.acquireNow(request));
    });
  }

  private async peek(request: IdempotencyAcquireRequest): Promise<IdempotencyAcquireResult | undefined> {
    const row = await this.dataSource
      .getRepository(IdempotencyRecord)
      .findOneBy({ id: idempotencyRecordId(request.scope, request.key) });
    const now = Date.now();
    if (!row || row.expiresAt.getTime() <= now) return undefined;
    if (row.fingerprint !== request.fingerprint) return { outcome: 'fingerprint-mismatch' };
    const left = row.lockedUntil.getTime() - now;
    if (row.status === 'in_progress' && row.owner !== null && left > 0) {
      return { outcome: 'in-progress', retryAfterMs: left };
    }
    return undefined;
  }

  async complete(
    lock: IdempotencyLockRef,
    response: StoredResponse,
    retentionMs: number,
    transaction?: EntityManager,
  ): Promise<boolean> {
    assertStoreTtl(retentionMs, 'retentionMs');
    return this.owned(
      lock,
      transaction,
      {
        status: 'completed',
        owner: null,
        lockedUntil: () => '0',
        expiresAt: () => ':expiresAt',
        responseStatus: response.status,
        responseHeaders: JSON.stringify(response.headers),
        responseBody: response.body,
        recoveryPoint: null,
      },
      { expiresAt: Date.now() + retentionMs },
    );
  }

  release(lock: IdempotencyLockRef): Promise<boolean> {
    return this.owned(lock, undefined, { owner: null, lockedUntil: () => '0' }, {});
  }

  async extend(lock: IdempotencyLockRef, lockTtlMs: number, transaction?: EntityManager): Promise<boolean> {
    assertStoreTtl(lockTtlMs, 'lockTtlMs');
    const expires = this.col('expiresAt');
    return this.owned(
      lock,
      transaction,
      {
        lockedUntil: () => ':lockedUntil',
        expiresAt: () => `CASE WHEN ${expires} < :lockedUntil THEN :lockedUntil ELSE ${expires} END`,
      },
      { lockedUntil: Date.now() + lockTtlMs },
    );
  }

  checkpoint(lock: IdempotencyLockRef, recoveryPoint: string): Promise<boolean> {
    return this.owned(lock, undefined, { recoveryPoint }, {});
  }

  private async acquireNow(request: IdempotencyAcquireRequest): Promise<IdempotencyAcquireResult> {
    const repo = this.dataSource.getRepository(IdempotencyRecord);
    const id = idempotencyRecordId(request.scope, request.key);
    // A plain read answers the common cases (running, done, other payload) without
    // writing: on PostgreSQL it never waits for the running attempt's transaction,
    // where an INSERT's uniqueness check would. Only the decisions that write are
    // atomic statements (INSERT, conditional UPDATE); when one of them loses a race
    // the row is read again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = Date.now();
      const row = await repo.findOneBy({ id });
      if (row && row.expiresAt.getTime() > now) {
        if (row.fingerprint !== request.fingerprint) return { outcome: 'fingerprint-mismatch' };
        if (row.status === 'completed') {
          return {
            outcome: 'completed',
            response: {
              status: row.responseStatus ?? 200,
              headers: row.responseHeaders ? (JSON.parse(row.responseHeaders) as Record<string, string>) : {},
              body: row.responseBody,
            },
          };
        }
        const left = row.lockedUntil.getTime() - now;
        if (row.owner !== null && left > 0) return { outcome: 'in-progress', retryAfterMs: left };
      }
      const lockedUntil = now + request.lockTtlMs;
      const expiresAt = now + Math.max(request.retentionMs, request.lockTtlMs);
      if (!row) {
        try {
          await repo.insert({
            id,
            fingerprint: request.fingerprint,
            status: 'in_progress',
            owner: request.owner,
            lockedUntil: new Date(lockedUntil),
            expiresAt: new Date(expiresAt),
            responseStatus: null,
            responseHeaders: null,
            responseBody: null,
            recoveryPoint: null,
            createdAt: new Date(now),
          });
          this.maybeSweep(now);
          return { outcome: 'acquired', recoveryPoint: null };
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
          continue;
        }
      }
      // Take over: a record past its retention (as new), or this same request whose
      // lock expired or was released. One statement; of concurrent takeovers one wins.
      const c = (name: string) => this.col(name);
      const takeover = await repo
        .createQueryBuilder()
        .update(IdempotencyRecord)
        .set({
          fingerprint: request.fingerprint,
          status: 'in_progress',
          owner: request.owner,
          lockedUntil: () => ':lockedUntil',
          expiresAt: () => ':expiresAt',
          responseStatus: null,
          responseHeaders: null,
          responseBody: null,
          createdAt: () => `CASE WHEN ${c('expiresAt')} <= :now THEN :now ELSE ${c('createdAt')} END`,
          // A record past its retention starts afresh; a same-request takeover keeps the recovery point.
          recoveryPoint: () => `CASE WHEN ${c('expiresAt')} <= :now THEN NULL ELSE ${c('recoveryPoint')} END`,
        })
        .where(`${c('id')} = :id`)
        .andWhere(
          `(${c('expiresAt')} <= :now OR (${c('status')} = 'in_progress' AND ${c('lockedUntil')} <= :now AND ${c('fingerprint')} = :fingerprint))`,
        )
        .setParameters({ id, now, lockedUntil, expiresAt, fingerprint: request.fingerprint })
        .execute();
      if (takeover.affected === 1) {
        const mine = await repo.findOne({
          select: { id: true, recoveryPoint: true },
          where: { id, owner: request.owner },
        });
        return { outcome: 'acquired', recoveryPoint: mine?.recoveryPoint ?? null };
      }
    }
    throw new IdempotencyStoreUnavailableError('the idempotency record kept changing under acquire()');
  }

  /** One UPDATE of the record, only while `lock.owner` holds it in progress. */
  private owned(
    lock: IdempotencyLockRef,
    transaction: EntityManager | undefined,
    values: QueryDeepPartialEntity<IdempotencyRecord>,
    parameters: Record<string, unknown>,
  ): Promise<boolean> {
    if (transaction && transaction.connection !== this.dataSource) {
      throw new Error(
        'TypeOrmIdempotencyStore: the transaction belongs to another DataSource than the store, so the record ' +
          'could not commit with it. Create the store on the DataSource of your tables.',
      );
    }
    const run = async (manager: EntityManager) => {
      const result = await manager
        .createQueryBuilder()
        .update(IdempotencyRecord)
        .set(values)
        .where(`${this.col('id')} = :id`)
        .andWhere(`${this.col('owner')} = :owner`)
        .andWhere(`${this.col('status')} = 'in_progress'`)
        .setParameters({ ...parameters, id: idempotencyRecordId(lock.scope, lock.key), owner: lock.owner })
        .execute();
      return result.affected === 1;
    };
    if (transaction) return this.guard(() => run(transaction));
    return this.guard(() => serialized(this.dataSource, () => run(this.dataSource.manager)));
  }

  private col(name: string): string {
    return this.dataSource.driver.escape(name);
  }

  private maybeSweep(now: number): void {
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    void serialized(this.dataSource, () =>
      this.dataSource
        .createQueryBuilder()
        .delete()
        .from(IdempotencyRecord)
        .where(`${this.col('expiresAt')} < :now`, { now })
        .execute(),
    ).catch(() => undefined);
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof IdempotencyStoreUnavailableError) throw error;
      throw new IdempotencyStoreUnavailableError(error instanceof Error ? error.message : String(error));
    }
  }
}

function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string } | undefined;
  // PostgreSQL unique_violation; SQLite constraint errors from better-sqlite3.
  return driverError?.code === '23505' || /^SQLITE_CONSTRAINT/.test(driverError?.code ?? '');
}
