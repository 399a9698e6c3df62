import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Inject,
  Post,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import {
  ApiKeypairAuth,
  CurrentSecurityContext,
  Idempotent,
  KeypairRequestException,
  runInTransaction,
  SecurityContext,
} from '../../src';
import { DemoAccount } from './demo-account.entity';
import { DemoTransfer } from './demo-transfer.entity';
import { TransferDto } from './transfer.dto';
import { DEMO_FAULTS, DemoFault, TransferEndpoint, TransferView } from './transfer.endpoint';
import { TRANSFERS_OPTIONS, TransfersOptions } from './transfers.options';

const messages = (errors: ValidationError[]): string[] =>
  errors.flatMap((e) => [...Object.values(e.constraints ?? {}), ...messages(e.children ?? [])]);

const validation = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => new KeypairRequestException('VALIDATION_FAILED', messages(errors).join('; ')),
});

/** Money between two demo accounts, exactly once per Idempotency-Key. Authenticated (global guard). */
@ApiTags('transfers')
@ApiKeypairAuth()
@Controller()
export class TransfersController {
  constructor(
    private readonly transfer: TransferEndpoint,
    private readonly dataSource: DataSource,
    @Inject(TRANSFERS_OPTIONS) private readonly options: TransfersOptions,
  ) {}

  /**
   * Balances, in cents. Read in a transaction of its own: on SQLite (one shared
   * connection) that also waits for a running transfer instead of reading into it.
   */
  @ApiOperation({ summary: 'The demo accounts and their balances, in cents' })
  @Get('accounts')
  async accounts(): Promise<{ id: string; balance: number }[]> {
    const rows = await runInTransaction(this.dataSource, (m) =>
      m.getRepository(DemoAccount).find({ order: { id: 'ASC' } }),
    );
    return rows.map(({ id, balance }) => ({ id, balance }));
  }

  /** The last 100 transfers, newest first. */
  @ApiOperation({ summary: 'The last 100 transfers, newest first' })
  @Get('transfers')
  async list(): Promise<{ id: string; from: string; to: string; amount: number; username: string }[]> {
    const rows = await runInTransaction(this.dataSource, (m) =>
      m.getRepository(DemoTransfer).find({ order: { createdAt: 'DESC' }, take: 100 }),
    );
    return rows.map((t) => ({
      id: t.id,
      from: t.fromAccount,
      to: t.toAccount,
      amount: t.amount,
      username: t.username,
    }));
  }

  /**
   * `{from, to, amount}` → 201 with the transfer and the balances after it. Retries
   * with the same Idempotency-Key get that same answer (`Idempotent-Replayed: true`).
   */
  @ApiOperation({ summary: 'Move money between two accounts, exactly once per Idempotency-Key' })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'A quoted string, e.g. "8e03978e-…"' })
  @Post('transfers')
  @HttpCode(HttpStatus.CREATED)
  @Idempotent()
  create(
    @Body(validation) body: TransferDto,
    @CurrentSecurityContext() ctx: SecurityContext,
    @Headers('x-demo-fault') fault?: string,
  ): Promise<TransferView> {
    const injected =
      this.options.faultInjection && fault && DEMO_FAULTS.includes(fault as DemoFault)
        ? (fault as DemoFault)
        : null;
    return this.transfer.execute({ request: body, username: ctx.username, fault: injected });
  }
}
