import { Repository } from 'typeorm';
import { PublicKey } from './public-key.entity';

/**
 * Batches `lastUsedAt` writes: the request path only sets a map entry, and a timer
 * writes each used key once per interval. A lost batch (crash) loses at most one
 * interval of "last used" precision, never a security decision.
 */
export class LastUsedRecorder {
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: Repository<PublicKey>,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  touch(keyId: string, at = Date.now()): void {
    this.pending.set(keyId, at);
  }

  flush(): Promise<void> {
    if (this.pending.size === 0) return this.flushing;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      for (const [keyId, at] of batch) {
        await this.repo.update({ keyId }, { lastUsedAt: new Date(at) }).catch(() => undefined);
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
