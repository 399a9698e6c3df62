import { DynamicModule, Inject, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, DataSourceOptions } from 'typeorm';
import { DemoAccount } from './demo-account.entity';
import { DemoTransfer } from './demo-transfer.entity';
import { DemoTransfers1734000001000 } from './1734000001000-demo-transfers';
import { TransferEndpoint } from './transfer.endpoint';
import { TransfersController } from './transfers.controller';
import { TRANSFERS_OPTIONS, TransfersOptions, transfersOptionsFromEnv } from './transfers.options';

/** The demo's tables: add them to the app's TypeORM options (the library's lists stay the library's). */
export const TRANSFERS_ENTITIES = [DemoAccount, DemoTransfer];
export const TRANSFERS_MIGRATIONS = [DemoTransfers1734000001000];

/** Two accounts to move money between, in cents. */
export const DEMO_ACCOUNTS: readonly { id: string; balance: number }[] = [
  { id: 'checking', balance: 1_000_000 },
  { id: 'savings', balance: 0 },
];

/** TypeORM options plus the demo's entities and migrations. */
export function withTransferTables<T extends DataSourceOptions>(options: T): T {
  return {
    ...options,
    entities: [...((options.entities as unknown[]) ?? []), ...TRANSFERS_ENTITIES],
    migrations: [...((options.migrations as unknown[]) ?? []), ...TRANSFERS_MIGRATIONS],
  } as T;
}

/** Seeds the two accounts at start, once: an insert that skips rows already there. */
class DemoAccountsSeeder implements OnApplicationBootstrap {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    const result = await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(DemoAccount)
      .values(DEMO_ACCOUNTS.map((a) => ({ ...a })))
      .orIgnore()
      .execute();
    const created = result.identifiers.filter(Boolean).length;
    if (created > 0) new Logger('Demo').log(`seeded ${created} demo accounts`);
  }
}

/** `POST /transfers` (idempotent by Idempotency-Key) and `GET /accounts`. */
@Module({})
export class TransfersModule {
  static forRoot(options: TransfersOptions = transfersOptionsFromEnv()): DynamicModule {
    return {
      module: TransfersModule,
      controllers: [TransfersController],
      providers: [{ provide: TRANSFERS_OPTIONS, useValue: options }, TransferEndpoint, DemoAccountsSeeder],
    };
  }
}
