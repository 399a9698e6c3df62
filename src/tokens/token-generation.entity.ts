import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/epoch-ms.transformer';

/**
 * A user's token generation: access tokens carry the generation they were issued
 * under, and one below the current value is refused. Revoking all of a user's
 * tokens is one increment. No row means generation 0.
 */
@Entity({ name: 'keypair_auth_token_generations' })
export class TokenGeneration {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  userId!: string;

  @Column({ type: 'integer' })
  generation!: number;

  @Column({ type: 'bigint', transformer: epochMs })
  updatedAt!: Date;
}
