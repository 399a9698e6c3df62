import { KeyStoreUnavailableError } from './key-store-unavailable.error';

/**
 * How many cold lookups per second may come back "not found", shared by the key and
 * account caches of one KeyRegistry (a token bucket, full at start). A cold lookup
 * takes a token before its query and gives it back when the id turns out to exist,
 * so only unknown ids spend the budget. When it is spent, cold lookups are refused
 * without a query (503 AUTH_BACKEND_UNAVAILABLE, retry) until it refills: a flood of
 * distinct random ids costs at most `perSecond` queries a second. The trade-off: a
 * real key that is not cached yet is refused too while such a flood lasts; cached
 * keys are never affected.
 */
export class UnknownLookupBudget {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond;
    this.last = clock();
  }

  take(): void {
    const now = this.clock();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
    if (this.tokens < 1) {
      throw new KeyStoreUnavailableError(
        `more than ${this.perSecond} lookups of unknown ids in the last second ` +
          '(keyCache.unknownLookupsPerSecond): cold lookups are refused until the budget refills',
      );
    }
    this.tokens--;
  }

  giveBack(): void {
    this.tokens = Math.min(this.perSecond, this.tokens + 1);
  }
}
