import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/epoch-ms.transformer';

/**
 * One Idempotency-Key of one scope (user). `id` is the SHA-256 of scope and key
 * (idempotencyRecordId), so the primary key alone makes creation atomic and any key
 * fits. An in-progress record has an `owner` until `lockedUntil`; a completed one
 * keeps the response until `expiresAt`. Times are epoch milliseconds.
 */
@Entity({ name: 'keypair_auth_idempotency_keys' })
export class IdempotencyRecord {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  /** SHA-256 hex of method, path and body (see requestFingerprint). */
  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  /** `in_progress` or `completed`. */
  @Column({ type: 'varchar', length: 16 })
  status!: 'in_progress' | 'completed';

  /** Token of the attempt holding the lock; null when unlocked or completed. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  owner!: string | null;

  @Column({ type: 'bigint', transformer: epochMs })
  lockedUntil!: Date;

  @Index('IDX_keypair_auth_idempotency_keys_expires')
  @Column({ type: 'bigint', transformer: epochMs })
  expiresAt!: Date;

  @Column({ type: 'integer', nullable: true })
  responseStatus!: number | null;

  /** JSON object of the replayed headers. */
  @Column({ type: 'text', nullable: true })
  responseHeaders!: string | null;

  /** JSON text of the body. */
  @Column({ type: 'text', nullable: true })
  responseBody!: string | null;

  /** Opaque recovery point saved by checkpoint(). */
  @Column({ type: 'text', nullable: true })
  recoveryPoint!: string | null;

  @Column({ type: 'bigint', transformer: epochMs })
  createdAt!: Date;
}
