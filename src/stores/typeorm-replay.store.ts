import { createHash } from 'node:crypto';
import { DataSource, LessThan, QueryFailedError, Repository } from 'typeorm';
import { NonceRecord } from './nonce.entity';
import { ReplayStore, ReplayStoreUnavailableError } from './replay-store.interface';
import { assertStoreTtl } from './store-ttl';

/**
 * Replay store on the app's database. The primary key makes the claim atomic:
 * the INSERT either creates the row (new nonce) or hits the unique constraint.
 * An expired row is taken over with one conditional UPDATE, which again only
 * one concurrent caller can win.
 */
export class TypeOrmReplayStore implements ReplayStore {
  private readonly repo: Repository<NonceRecord>;
  private lastSweep = 0;

  constructor(
    dataSource: DataSource,
    private readonly sweepIntervalMs = 60_000,
  ) {
    this.repo = dataSource.getRepository(NonceRecord);
  }

  async claim(scope: string, nonce: string, ttlMs: number): Promise<boolean> {
    assertStoreTtl(ttlMs);
    const id = createHash('sha256').update(scope).update('\u0000').update(nonce).digest('hex');
    const now = Date.now();
    try {
      await this.repo.insert({ id, expiresAt: now + ttlMs });
      this.maybeSweep(now);
      return true;
    } catch (error) {
      if (!isUniqueViolation(error)) throw new ReplayStoreUnavailableError(describe(error));
    }
    try {
      const result = await this.repo.update({ id, expiresAt: LessThan(now) }, { expiresAt: now + ttlMs });
      return (result.affected ?? 0) === 1;
    } catch (error) {
      throw new ReplayStoreUnavailableError(describe(error));
    }
  }

  private maybeSweep(now: number): void {
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    this.repo.delete({ expiresAt: LessThan(now) }).catch(() => undefined);
  }
}

function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = error.driverError as { code?: string } | undefined;
  // PostgreSQL unique_violation, SQLite constraint errors from better-sqlite3.
  return driverError?.code === '23505' || /^SQLITE_CONSTRAINT/.test(driverError?.code ?? '');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
