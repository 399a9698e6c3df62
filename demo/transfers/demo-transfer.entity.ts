import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../src/database/epoch-ms.transformer';

/** One executed transfer: exactly one row per Idempotency-Key, however often the client retried. */
@Entity({ name: 'demo_transfers' })
export class DemoTransfer {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 32 })
  fromAccount!: string;

  @Column({ type: 'varchar', length: 32 })
  toAccount!: string;

  @Column({ type: 'integer' })
  amount!: number;

  /** Who asked for it. */
  @Column({ type: 'varchar', length: 128 })
  username!: string;

  @Index('IDX_demo_transfers_created')
  @Column({ type: 'bigint', transformer: epochMs })
  createdAt!: Date;
}
