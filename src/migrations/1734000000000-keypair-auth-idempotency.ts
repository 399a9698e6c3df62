import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * The idempotency-key table, with TypeORM's portable schema API so the same migration
 * runs on SQLite and PostgreSQL. Times are epoch milliseconds (bigint).
 */
export class KeypairAuthIdempotency1734000000000 implements MigrationInterface {
  name = 'KeypairAuthIdempotency1734000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'keypair_auth_idempotency_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'fingerprint', type: 'varchar', length: '64' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'owner', type: 'varchar', length: '64', isNullable: true },
          { name: 'lockedUntil', type: 'bigint' },
          { name: 'expiresAt', type: 'bigint' },
          { name: 'responseStatus', type: 'integer', isNullable: true },
          { name: 'responseHeaders', type: 'text', isNullable: true },
          { name: 'responseBody', type: 'text', isNullable: true },
          { name: 'recoveryPoint', type: 'text', isNullable: true },
          { name: 'createdAt', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'IDX_keypair_auth_idempotency_keys_expires', columnNames: ['expiresAt'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('keypair_auth_idempotency_keys');
  }
}
