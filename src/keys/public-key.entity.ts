import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/epoch-ms.transformer';
import type { KeyAlgorithm } from './key-algorithm';
import { User } from './user.entity';

/**
 * A registered public key. Many per user. The algorithm is fixed at registration
 * and is the only one the key ever verifies with.
 */
@Entity({ name: 'keypair_auth_public_keys' })
export class PublicKey {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** The identifier clients send (`kid`, `keyid`, `keyId`). Defaults to the fingerprint. */
  @Column({ type: 'varchar', length: 255, unique: true })
  keyId!: string;

  @Index('IDX_keypair_auth_public_keys_user')
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  /**
   * Linked to our User entity for apps that use it; no database foreign key, so an
   * app with its own user table (UserResolver) can use this table unchanged.
   */
  @ManyToOne(() => User, { createForeignKeyConstraints: false, nullable: true })
  @JoinColumn({ name: 'userId' })
  user?: User;

  @Column({ type: 'varchar', length: 32 })
  algorithm!: KeyAlgorithm;

  /**
   * True when nobody chose the algorithm (no `--alg`, no JWK `alg`): an RSA key then
   * accepts RS256/RS384/RS512 (JWT) and rsa-sha256/rsa-sha512 (Cavage). Keys registered
   * before this column existed are false: pinned, as they were.
   */
  @Column({ type: 'boolean', default: false })
  algorithmDefaulted!: boolean;

  /** Canonical SPKI PEM. */
  @Column({ type: 'text' })
  publicKeyPem!: string;

  @Column({ type: 'simple-json' })
  jwk!: Record<string, string>;

  /** RFC 7638 JWK SHA-256 thumbprint, base64url. */
  @Column({ type: 'varchar', length: 64, unique: true })
  fingerprint!: string;

  /** Hex SHA-256 of the SPKI PEM: the `kid` that asymmetric_jwt_auth clients send. */
  @Column({ type: 'varchar', length: 64, unique: true })
  pemSha256!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  label!: string | null;

  /** Role subset this key may use; null means all of the user's roles. */
  @Column({ type: 'simple-json', nullable: true })
  roles!: string[] | null;

  @Column({ type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ type: 'bigint', transformer: epochMs, nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'bigint', transformer: epochMs, nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'bigint', transformer: epochMs, nullable: true })
  lastUsedAt!: Date | null;
}
