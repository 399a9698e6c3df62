import { LRUCache } from 'lru-cache';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import { KeyStoreUnavailableError } from '../keys/key-store-unavailable.error';
import { LoadEpochs } from '../keys/load-epochs';
import { TokenGeneration } from './token-generation.entity';

export interface TokenGenerationsOptions {
  cacheMax: number;
  /** How long a generation is trusted before it is read again: keyCache.ttlSeconds. */
  cacheTtlMs: number;
}

/**
 * Per-user token generations, cached like keys: the access-token check reads the
 * cache, so a steady stream of requests makes no query. `bump` (revoke all of a
 * user's tokens) updates this instance's cache at once; other instances see the new
 * value when their entry expires, within `cacheTtlMs`. Issuing and refreshing read
 * the database (`fresh`), never the cache. A read that `bump` or `forget` overtook is
 * not cached (LoadEpochs): it may hold the generation from before the revocation.
 */
export class TokenGenerations {
  private readonly repo: Repository<TokenGeneration>;
  private readonly cache: LRUCache<string, number>;
  private readonly epochs = new LoadEpochs();

  constructor(dataSource: DataSource, options: TokenGenerationsOptions) {
    this.repo = dataSource.getRepository(TokenGeneration);
    this.cache = new LRUCache({ max: options.cacheMax, ttl: Math.max(options.cacheTtlMs, 1) });
  }

  /** The generation as this instance knows it (cache first). */
  async current(userId: string): Promise<number> {
    const hit = this.cache.get(userId);
    return hit !== undefined ? hit : this.fresh(userId);
  }

  /** The generation as stored now; refreshes the cache. */
  async fresh(userId: string): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const ticket = this.epochs.start(userId);
      let current = false;
      let row: TokenGeneration | null;
      try {
        row = await this.query(() => this.repo.findOneBy({ userId }));
      } finally {
        current = this.epochs.finish(ticket);
      }
      const generation = row?.generation ?? 0;
      if (current) {
        this.remember(userId, generation);
        return generation;
      }
      // A bump or forget overtook the read, which may predate it: read again, cache nothing.
      if (attempt === 3) return generation;
    }
  }

  /** Increments the user's generation (atomically, in the database) and returns the new value. */
  async bump(userId: string, now = new Date()): Promise<number> {
    await this.query(async () => {
      const increment = () =>
        this.repo
          .createQueryBuilder()
          .update(TokenGeneration)
          .set({ generation: () => 'generation + 1', updatedAt: now })
          .where({ userId })
          .execute();
      if ((await increment()).affected) return;
      try {
        await this.repo.insert({ userId, generation: 1, updatedAt: now });
      } catch (error) {
        // Another instance inserted the row meanwhile: increment that one.
        if (!(error instanceof QueryFailedError) || !(await increment()).affected) throw error;
      }
    });
    this.forget(userId);
    return this.fresh(userId);
  }

  /** Drops this instance's cached value (e.g. on a message from another instance). */
  forget(userId: string): void {
    this.cache.delete(userId);
    this.epochs.invalidate(userId);
  }

  private remember(userId: string, generation: number): void {
    // Never go backwards: a slow read must not overwrite a newer value.
    const known = this.cache.get(userId);
    this.cache.set(userId, known === undefined ? generation : Math.max(known, generation));
  }

  private async query<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new KeyStoreUnavailableError(error instanceof Error ? error.message : String(error));
    }
  }
}
