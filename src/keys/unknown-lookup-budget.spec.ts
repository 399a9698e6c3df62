import { KeyStoreUnavailableError } from './key-store-unavailable.error';
import { LoadEpochs } from './load-epochs';
import { UnknownLookupBudget } from './unknown-lookup-budget';

describe('UnknownLookupBudget', () => {
  it('allows `perSecond` unknown lookups at once, then refuses until it refills', () => {
    let now = 0;
    const budget = new UnknownLookupBudget(3, () => now);
    for (let i = 0; i < 3; i++) budget.take();
    expect(() => budget.take()).toThrow(KeyStoreUnavailableError);
    now = 340; // a third of a second: one more
    budget.take();
    expect(() => budget.take()).toThrow(/keyCache\.unknownLookupsPerSecond/);
  });

  it('a lookup that found its id gives its token back', () => {
    const budget = new UnknownLookupBudget(1, () => 0);
    budget.take();
    budget.giveBack();
    expect(() => budget.take()).not.toThrow();
  });
});

describe('LoadEpochs', () => {
  it('a load overtaken by an invalidation of its id, or of all, may not be cached; others may', () => {
    const epochs = new LoadEpochs();
    const a = epochs.start('a');
    const b = epochs.start('b');
    epochs.invalidate('a');
    expect(epochs.finish(a)).toBe(false);
    expect(epochs.finish(b)).toBe(true);
    const c = epochs.start('c');
    epochs.invalidateAll();
    expect(epochs.finish(c)).toBe(false);
    expect(epochs.finish(epochs.start('c'))).toBe(true);
  });
});
