import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { KeypairRequestException, TypeOrmIdempotentEndpoint } from '../../src';
import { DemoAccount } from './demo-account.entity';
import { DemoTransfer } from './demo-transfer.entity';
import type { TransferDto } from './transfer.dto';
import { TRANSFERS_OPTIONS, TransfersOptions } from './transfers.options';

/** Faults the tests inject (only with `faultInjection`, i.e. DEMO_FAULT_INJECTION=1). */
export type DemoFault = 'fail-after-debit' | 'crash-after-debit' | 'slow';
export const DEMO_FAULTS: readonly DemoFault[] = ['fail-after-debit', 'crash-after-debit', 'slow'];

export interface TransferInput {
  readonly request: TransferDto;
  readonly username: string;
  readonly fault: DemoFault | null;
}

interface TransferState {
  readonly from: DemoAccount;
  readonly to: DemoAccount;
  readonly transfer?: DemoTransfer;
}

export interface TransferView {
  id: string;
  from: string;
  to: string;
  amount: number;
  createdAt: string;
  /** Balances right after this transfer. */
  balances: Record<string, number>;
}

/**
 * Moves money between two demo accounts. The debit, the credit, the transfer row and
 * the idempotency record commit in one transaction (TypeOrmIdempotentEndpoint), so a
 * crash midway leaves nothing half-done and a retry can never move the money twice.
 */
@Injectable()
export class TransferEndpoint extends TypeOrmIdempotentEndpoint<TransferInput, TransferState, TransferView> {
  constructor(@Inject(TRANSFERS_OPTIONS) private readonly options: TransfersOptions) {
    super();
  }

  protected async loadState({ request }: TransferInput, manager: EntityManager): Promise<TransferState> {
    if (request.from === request.to) {
      throw new KeypairRequestException('SAME_ACCOUNT', 'from and to must be different accounts.');
    }
    const accounts = manager.getRepository(DemoAccount);
    const from = await accounts.findOneBy({ id: request.from });
    const to = await accounts.findOneBy({ id: request.to });
    if (!from || !to) {
      throw new KeypairRequestException('ACCOUNT_NOT_FOUND', 'No such account.', HttpStatus.NOT_FOUND);
    }
    return { from, to };
  }

  protected async updateState(
    state: TransferState,
    { request, username, fault }: TransferInput,
    manager: EntityManager,
  ): Promise<TransferState> {
    // Relative, conditional updates: correct under any concurrency, no read-modify-write.
    const debit = await manager
      .createQueryBuilder()
      .update(DemoAccount)
      .set({ balance: () => 'balance - :amount' })
      .where('id = :id AND balance >= :amount', { id: request.from, amount: request.amount })
      .execute();
    if (debit.affected !== 1) {
      throw new KeypairRequestException(
        'INSUFFICIENT_FUNDS',
        'The balance of the source account is too low.',
        HttpStatus.UNPROCESSABLE_ENTITY,
      );
    }
    if (fault && this.options.faultInjection) await this.inject(fault);
    await manager
      .createQueryBuilder()
      .update(DemoAccount)
      .set({ balance: () => 'balance + :amount' })
      .where('id = :id', { id: request.to, amount: request.amount })
      .execute();
    const transfer = manager.create(DemoTransfer, {
      id: randomUUID(),
      fromAccount: request.from,
      toAccount: request.to,
      amount: request.amount,
      username,
      createdAt: new Date(),
    });
    await manager.insert(DemoTransfer, transfer);
    const accounts = manager.getRepository(DemoAccount);
    return {
      from: await accounts.findOneByOrFail({ id: request.from }),
      to: await accounts.findOneByOrFail({ id: request.to }),
      transfer,
    };
  }

  protected getResponse({ from, to, transfer }: TransferState): TransferView {
    const t = transfer as DemoTransfer;
    return {
      id: t.id,
      from: t.fromAccount,
      to: t.toAccount,
      amount: t.amount,
      createdAt: t.createdAt.toISOString(),
      balances: { [from.id]: from.balance, [to.id]: to.balance },
    };
  }

  /** Test hooks between the debit and the credit: wait 300 ms (a slow bank), fail (500), or kill the process. */
  private async inject(fault: DemoFault): Promise<void> {
    if (fault === 'slow') return new Promise((resolve) => setTimeout(resolve, 300));
    if (fault === 'crash-after-debit') process.kill(process.pid, 'SIGKILL');
    throw new Error('injected fault after the debit');
  }
}
