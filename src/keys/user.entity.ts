import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/epoch-ms.transformer';

/** The library's own account table. Apps with their own users plug in a UserResolver instead. */
@Entity({ name: 'keypair_auth_users' })
export class User {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 128, unique: true })
  username!: string;

  @Column({ type: 'simple-json' })
  roles!: string[];

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @Column({ type: 'bigint', transformer: epochMs })
  createdAt!: Date;
}
