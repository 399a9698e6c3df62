import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { IdempotencyAttempt, requireIdempotencyAttempt } from './idempotency-attempt';

/** What a RecoverableIdempotentEndpoint saves after each step (JSON in the store's recovery point). */
export interface RecoveryPoint {
  /** The last step that completed. */
  readonly step: string;
  /** The result of every completed step, by name. */
  readonly results: Readonly<Record<string, unknown>>;
}

/**
 * The steps of one attempt. `run(name, fn)` calls `fn` once per request across
 * attempts: its (JSON) result is saved as a recovery point before the next step
 * starts, and a later attempt of the same request, after a crash or a 5xx, gets the
 * saved result back instead of calling `fn` again.
 */
export class RecoverySteps {
  private readonly results: Record<string, unknown>;
  private readonly seen = new Set<string>();
  private last: string | null;

  constructor(
    private readonly attempt: IdempotencyAttempt,
    recovered: RecoveryPoint | null,
  ) {
    this.results = { ...(recovered?.results ?? {}) };
    this.last = recovered?.step ?? null;
  }

  /** The last step a previous attempt completed, or null on a first attempt. */
  get resumedFrom(): string | null {
    return this.attempt.recoveryPoint === null ? null : this.last;
  }

  /** True when a previous attempt completed `name`. */
  completed(name: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.results, name);
  }

  async run<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
    if (this.seen.has(name)) {
      throw ConfigError.create(
        `recovery step ${JSON.stringify(name)} ran twice in one attempt.`,
        'Give each step its own name.',
      );
    }
    this.seen.add(name);
    if (this.completed(name)) return this.results[name] as T;
    const value = await fn();
    // Saved as JSON, returned as JSON, so a resumed attempt sees exactly what a first one saw.
    const text = JSON.stringify(value ?? null);
    const saved = JSON.parse(text) as T;
    this.results[name] = saved;
    this.last = name;
    const point: RecoveryPoint = { step: name, results: this.results };
    if (!(await this.attempt.store.checkpoint(this.attempt.lock, JSON.stringify(point)))) {
      throw this.attempt.lockLost();
    }
    return saved;
  }
}

/**
 * An idempotent write that calls other systems (a payment provider, a mailer) in
 * steps. Each step's result is saved as a recovery point when it completes; if the
 * process crashes or the handler fails with a 5xx, the retry (after the lock expires,
 * or at once after a 5xx) resumes after the last completed step rather than repeating
 * it. Steps that call out should still pass a key of their own (e.g. the
 * Idempotency-Key) to the system they call, for the window between its effect and
 * the checkpoint.
 *
 *     protected async updateState(order, input, steps) {
 *       const charge = await steps.run('charge', () => this.payments.charge(order, input.key));
 *       await steps.run('email', () => this.mailer.receipt(order, charge.id));
 *       return { ...order, chargeId: charge.id };
 *     }
 */
export abstract class RecoverableIdempotentEndpoint<Input, State, Result> {
  protected abstract loadState(input: Input, steps: RecoverySteps): Promise<State> | State;
  protected abstract updateState(state: State, input: Input, steps: RecoverySteps): Promise<State> | State;
  protected abstract getResponse(state: State, input: Input): Promise<Result> | Result;

  async execute(input: Input): Promise<Result> {
    const attempt = requireIdempotencyAttempt(this.constructor.name);
    const steps = new RecoverySteps(attempt, parseRecoveryPoint(attempt.recoveryPoint));
    const state = await this.loadState(input, steps);
    const updated = await this.updateState(state, input, steps);
    return this.getResponse(updated, input);
  }
}

function parseRecoveryPoint(text: string | null): RecoveryPoint | null {
  if (text === null) return null;
  try {
    const point = JSON.parse(text) as RecoveryPoint;
    return typeof point?.step === 'string' && typeof point.results === 'object' ? point : null;
  } catch {
    return null;
  }
}
