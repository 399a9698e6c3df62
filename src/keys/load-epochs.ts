/** What `start` hands out: the epochs a load began under. */
export interface LoadTicket {
  readonly id: string;
  readonly epoch: number;
  readonly global: number;
}

/**
 * Per-entry epochs for loads in flight: an invalidation bumps the epoch of its id
 * (or, for `invalidateAll`, the global one), and a load that started under an older
 * epoch must not store what it read. Without this, a database read that was in flight
 * during `revoke()` would put the key back into the cache, usable for a whole TTL.
 * An id has an epoch only while one of its loads is in flight, so memory is bounded
 * by the loads in flight.
 */
export class LoadEpochs {
  private global = 0;
  private readonly entries = new Map<string, { epoch: number; pending: number }>();

  start(id: string): LoadTicket {
    let entry = this.entries.get(id);
    if (!entry) this.entries.set(id, (entry = { epoch: 0, pending: 0 }));
    entry.pending++;
    return { id, epoch: entry.epoch, global: this.global };
  }

  /** Ends a load; true when nothing invalidated its id since it started (then it may be cached). */
  finish(ticket: LoadTicket): boolean {
    const entry = this.entries.get(ticket.id)!;
    if (--entry.pending === 0) this.entries.delete(ticket.id);
    return entry.epoch === ticket.epoch && this.global === ticket.global;
  }

  invalidate(id: string): void {
    const entry = this.entries.get(id);
    if (entry) entry.epoch++;
  }

  invalidateAll(): void {
    this.global++;
  }
}
