import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One claimed nonce. `id` is the SHA-256 of scope and nonce, so its size is bounded. */
@Entity({ name: 'keypair_auth_nonces' })
export class NonceRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Index('IDX_keypair_auth_nonces_expires')
  @Column({ type: 'bigint' })
  expiresAt!: string | number;
}
