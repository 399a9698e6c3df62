import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { KEYPAIR_AUTH_DATA_SOURCE } from '../keypair-auth.internal-constants';
import { MemoryReplayStore } from '../stores/memory-replay.store';
import { REPLAY_STORE, ReplayStore } from '../stores/replay-store.interface';

export type DependencyState = 'up' | 'down';

export interface KeypairAuthHealthReport {
  status: 'ok' | 'error';
  database: DependencyState;
  replayStore: DependencyState | 'in-memory';
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

/**
 * The state of what authentication depends on: the key database and the replay
 * store. Each check is bounded in time, so a dead dependency reports `down` instead
 * of hanging the health endpoint.
 */
@Injectable()
export class KeypairAuthHealth {
  constructor(
    @Inject(KEYPAIR_AUTH_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(REPLAY_STORE) private readonly replayStore: ReplayStore,
  ) {}

  async check(timeoutMs = 1500): Promise<KeypairAuthHealthReport> {
    const [database, replayStore] = await Promise.all([
      within(this.dataSource.query('SELECT 1'), timeoutMs).then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      this.replayStore instanceof MemoryReplayStore || !this.replayStore.ping
        ? Promise.resolve('in-memory' as const)
        : within(this.replayStore.ping(), timeoutMs).then(
            () => 'up' as const,
            () => 'down' as const,
          ),
    ]);
    const status = database === 'up' && replayStore !== 'down' ? 'ok' : 'error';
    return { status, database, replayStore };
  }
}
