import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../database/epoch-ms.transformer';

/**
 * A client certificate registered for a user, found by the SHA-256 of its DER
 * (what `openssl x509 -noout -fingerprint -sha256` prints, lowercase hex without
 * colons). Registering one is like registering a key: it names the account,
 * optionally limits its roles, and can be revoked. Like `PublicKey.userId`,
 * `userId` has no database foreign key, so apps with their own user table can use it.
 */
@Entity({ name: 'keypair_auth_client_certificates' })
export class ClientCertificate {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Lowercase hex SHA-256 of the DER certificate. */
  @Column({ type: 'varchar', length: 64, unique: true })
  fingerprint!: string;

  @Index('IDX_keypair_auth_client_certificates_user')
  @Column({ type: 'varchar', length: 36 })
  userId!: string;

  /** The certificate as registered (PEM). */
  @Column({ type: 'text' })
  certificatePem!: string;

  /** RFC 4514 rendering of the subject, for people (never used for mapping). */
  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  issuer!: string;

  /** Uppercase hex without leading zeros, as CRLs and `ca revoke` take it. */
  @Column({ type: 'varchar', length: 64 })
  serialNumber!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  label!: string | null;

  /** Role subset this certificate may use; null means all of the user's roles. */
  @Column({ type: 'simple-json', nullable: true })
  roles!: string[] | null;

  @Column({ type: 'bigint', transformer: epochMs })
  notBefore!: Date;

  @Column({ type: 'bigint', transformer: epochMs })
  notAfter!: Date;

  @Column({ type: 'bigint', transformer: epochMs })
  createdAt!: Date;

  @Column({ type: 'bigint', transformer: epochMs, nullable: true })
  revokedAt!: Date | null;
}
