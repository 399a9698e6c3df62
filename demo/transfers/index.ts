export {
  TransfersModule,
  TRANSFERS_ENTITIES,
  TRANSFERS_MIGRATIONS,
  DEMO_ACCOUNTS,
  withTransferTables,
} from './transfers.module';
export { demoIdempotencyOptions, transfersOptionsFromEnv } from './transfers.options';
export type { TransfersOptions } from './transfers.options';
export { TransferEndpoint } from './transfer.endpoint';
export type { DemoFault, TransferView } from './transfer.endpoint';
export { DemoAccount } from './demo-account.entity';
export { DemoTransfer } from './demo-transfer.entity';
