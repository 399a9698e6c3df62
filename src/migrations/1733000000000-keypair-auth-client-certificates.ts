import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

const times = (...names: string[]) => names.map((name, i) => ({ name, type: 'bigint', isNullable: i > 2 }));

/**
 * Client certificates registered by fingerprint, with TypeORM's portable schema
 * API so the same migration runs on SQLite and PostgreSQL (times in epoch ms).
 */
export class KeypairAuthClientCertificates1733000000000 implements MigrationInterface {
  name = 'KeypairAuthClientCertificates1733000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'keypair_auth_client_certificates',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'fingerprint', type: 'varchar', length: '64', isUnique: true },
          { name: 'userId', type: 'varchar', length: '36' },
          { name: 'certificatePem', type: 'text' },
          { name: 'subject', type: 'text' },
          { name: 'issuer', type: 'text' },
          { name: 'serialNumber', type: 'varchar', length: '64' },
          { name: 'label', type: 'varchar', length: '200', isNullable: true },
          { name: 'roles', type: 'text', isNullable: true },
          ...times('notBefore', 'notAfter', 'createdAt', 'revokedAt'),
        ],
        indices: [
          new TableIndex({ name: 'IDX_keypair_auth_client_certificates_user', columnNames: ['userId'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('keypair_auth_client_certificates');
  }
}
