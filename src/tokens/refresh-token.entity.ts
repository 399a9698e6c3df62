import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/epoch-ms.transformer';

/**
 * One refresh token, stored only as the hex SHA-256 of the token: a copy of this
 * table lets nobody refresh. Tokens of one login form a family; each use marks the
 * row used and adds its successor, and a used token presented again revokes the family.
 */
@Entity({ name: 'keypair_auth_refresh_tokens' })
export class RefreshTokenRecord {
  /** Hex SHA-256 of the opaque token. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Index('IDX_keypair_auth_refresh_tokens_family')
  @Column({ type: 'varchar', length: 36 })
  familyId!: string;

  @Index('IDX_keypair_auth_refresh_tokens_user')
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  /** The client key the family was issued through; revoking it ends the family. */
  @Index('IDX_keypair_auth_refresh_tokens_key')
  @Column({ type: 'varchar', length: 255 })
  keyId!: string;

  /** Roles granted at login; each refresh grants these ∩ the current effective roles. */
  @Column({ type: 'simple-json' })
  roles!: string[];

  /** The `cnf.jkt` the family is bound to: refreshing then needs a DPoP proof with that key. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  jkt!: string | null;

  /** The user's token generation when issued. */
  @Column({ type: 'integer' })
  generation!: number;

  @Column({ type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ type: 'bigint', transformer: epochMs })
  expiresAt!: Date;

  @Index('IDX_keypair_auth_refresh_tokens_family_expires')
  @Column({ type: 'bigint', transformer: epochMs })
  familyExpiresAt!: Date;

  @Column({ type: 'bigint', transformer: epochMs, nullable: true })
  usedAt!: Date | null;

  @Column({ type: 'bigint', transformer: epochMs, nullable: true })
  revokedAt!: Date | null;
}
