import { requireIdempotencyAttempt } from './idempotency-attempt';

/**
 * The shape of an idempotent write: read what is needed, change it, describe the
 * result. `execute()` runs the three steps under the idempotency lock that
 * @Idempotent() took for the request (and refuses to run without it); the
 * interceptor stores the result for replay.
 *
 *     @Injectable()
 *     class ShipOrder extends IdempotentEndpoint<{ orderId: string }, Order, ShipmentView> {
 *       protected loadState({ orderId }) { return this.orders.get(orderId); }
 *       protected updateState(order) { return this.orders.ship(order); }
 *       protected getResponse(order) { return { id: order.id, shippedAt: order.shippedAt }; }
 *     }
 *
 *     @Post(':id/ship') @Idempotent()
 *     ship(@Param('id') orderId: string) { return this.shipOrder.execute({ orderId }); }
 *
 * This plain variant gives "once" as long as the handler finishes or fails cleanly;
 * use TypeOrmIdempotentEndpoint when the change is in the database (the record
 * commits with it), or RecoverableIdempotentEndpoint when it calls other systems.
 */
export abstract class IdempotentEndpoint<Input, State, Result> {
  /** Reads what the change needs (and throws a 4xx HttpException when the request cannot be served). */
  protected abstract loadState(input: Input): Promise<State> | State;
  /** Makes the change; returns the state after it. */
  protected abstract updateState(state: State, input: Input): Promise<State> | State;
  /** What the client gets (and what retries get again). Must be JSON. */
  protected abstract getResponse(state: State, input: Input): Promise<Result> | Result;

  async execute(input: Input): Promise<Result> {
    requireIdempotencyAttempt(this.constructor.name);
    const state = await this.loadState(input);
    const updated = await this.updateState(state, input);
    return this.getResponse(updated, input);
  }
}
