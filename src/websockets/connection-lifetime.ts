import type { HttpException } from '@nestjs/common';
import type { SecurityContext } from '../context/security-context';
import { authError } from '../errors/keypair-auth.exception';
import type { CacheInvalidation } from '../keys/cache-invalidation.interface';
import { ConnectionState, setConnectionState } from './connection-state';
import type { LivenessCheck } from './credential-liveness';
import { closeCodeFor, type ConnectionEnded } from './ws-close-codes';

/** An open connection, as the adapter hands it over. */
export interface LiveConnection {
  /** The `ws` WebSocket or socket.io Socket (its state is kept on it for the guard). */
  readonly connection: object;
  readonly context: SecurityContext;
  readonly liveness: LivenessCheck;
  /** The handshake request (for the log line of the close). */
  readonly req: object;
  /** Closes the connection (ws: close frame; socket.io: `exception` event, then disconnect). */
  readonly end: (ended: ConnectionEnded) => void;
}

interface Tracked extends LiveConnection {
  expiry: NodeJS.Timeout | undefined;
  done: boolean;
  readonly state: ConnectionState;
}

/** setTimeout's longest delay (about 24.8 days); a later expiry re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Keeps the connections of an adapter to the life of the credential that opened them.
 * - At the credential's own end (an access token's `exp`, SecurityContext.expiresAt), a
 *   timer of that connection closes it.
 * - A revocation or account change heard by the key cache (this instance, or another
 *   through the invalidation bus) re-checks the connections it concerns at once.
 * - One shared timer re-checks every open credential each `periodMs`, through the cached
 *   registries: what changed behind the cache's back (SQL, another instance without a bus)
 *   is seen once its cache entry expires, so within keyCache.ttlSeconds + periodMs.
 * Bounded work: one check per distinct credential per round, rounds never overlap, no
 * timer runs while no connection is open, and a closed connection's timer is cleared.
 * A refusal is logged and audited like a refused request, then the connection is closed
 * with 4401 (the credential ended), 4403 (the account lost a role the connection holds)
 * or 4503 (it could not be checked: fail closed).
 */
export class ConnectionLifetime {
  private readonly live = new Set<Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;

  constructor(
    readonly periodMs: number,
    /** Logs and audits a refusal, and maps it to its HttpException (authFailure). */
    private readonly report: (error: unknown, req: object) => HttpException,
  ) {}

  /** Starts watching a connection; the returned function stops it (call it on close). */
  track(connection: LiveConnection): () => void {
    const tracked: Tracked = {
      ...connection,
      expiry: undefined,
      done: false,
      state: { ended: null, pending: null },
    };
    setConnectionState(connection.connection, tracked.state);
    this.live.add(tracked);
    this.armExpiry(tracked);
    // Checked once as it opens: a revocation between the handshake and now (a gateway's own
    // slow verifyClient, a socket.io client joining a namespace long after its handshake)
    // was announced before this connection was watched. Its first messages wait for this.
    if (!tracked.done) {
      const pending = this.checkAll([tracked]).finally(() => {
        if (tracked.state.pending === pending) tracked.state.pending = null;
      });
      tracked.state.pending = pending;
    } else {
      return () => this.untrack(tracked); // ended as it opened (expired): no round to schedule
    }
    this.timer ??= setInterval(() => void this.recheck(), this.periodMs).unref();
    return () => this.untrack(tracked);
  }

  /** How many connections are watched (for tests and health endpoints). */
  get size(): number {
    return this.live.size;
  }

  /**
   * A cache invalidation: re-checks the connections it concerns now. Until that check
   * answers, their messages wait for it (see assertConnectionCurrent), so none slips
   * through between a revocation and the close it causes.
   */
  onInvalidation(event: CacheInvalidation): void {
    const concerned = [...this.live].filter((t) => t.liveness.affectedBy(event));
    if (concerned.length === 0) return;
    const check = this.checkAll(concerned);
    for (const t of concerned) {
      const pending = check.finally(() => {
        if (t.state.pending === pending) t.state.pending = null;
      });
      t.state.pending = pending;
    }
  }

  /** One round over every open connection; a round still running is not doubled. */
  recheck(): Promise<void> {
    this.round ??= this.checkAll([...this.live]).finally(() => (this.round = undefined));
    return this.round;
  }

  /** Stops every timer (the adapter is disposed); open connections are the adapter's to close. */
  close(): void {
    for (const tracked of this.live) clearTimeout(tracked.expiry);
    this.live.clear();
    this.stopTimer();
  }

  private async checkAll(connections: Tracked[]): Promise<void> {
    const byCredential = new Map<string, Tracked[]>();
    for (const t of connections) {
      const group = byCredential.get(t.liveness.id);
      if (group) group.push(t);
      else byCredential.set(t.liveness.id, [t]);
    }
    await Promise.all(
      [...byCredential.values()].map(async (group) => {
        try {
          await group[0].liveness.check(Date.now());
        } catch (error) {
          for (const t of group) this.endWith(t, error);
        }
      }),
    );
  }

  private armExpiry(tracked: Tracked): void {
    const expiresAt = tracked.context.expiresAt;
    if (expiresAt === null) return;
    const delay = expiresAt - Date.now();
    if (delay <= 0) {
      this.endWith(tracked, authError('TOKEN_EXPIRED', `credential of ${tracked.context.keyId} expired`));
      return;
    }
    tracked.expiry = setTimeout(() => this.armExpiry(tracked), Math.min(delay, MAX_TIMER_MS)).unref();
  }

  private endWith(tracked: Tracked, error: unknown): void {
    if (tracked.done) return;
    this.untrack(tracked);
    const exception = this.report(error, tracked.req);
    tracked.state.ended = exception;
    const status = exception.getStatus();
    const body = exception.getResponse() as { code?: string; message?: string };
    const closeCode = closeCodeFor(status);
    try {
      tracked.end({
        status,
        code: body.code ?? 'AUTHENTICATION_FAILED',
        message: body.message ?? 'Authentication failed.',
        closeCode,
      });
    } catch {
      // A connection that cannot even be closed politely is dropped by its adapter's own error handling.
    }
  }

  private untrack(tracked: Tracked): void {
    tracked.done = true;
    clearTimeout(tracked.expiry);
    this.live.delete(tracked);
    if (this.live.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
