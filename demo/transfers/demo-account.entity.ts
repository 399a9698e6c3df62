import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A demo account; balances are integer cents. */
@Entity({ name: 'demo_accounts' })
export class DemoAccount {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id!: string;

  @Column({ type: 'integer' })
  balance!: number;
}
