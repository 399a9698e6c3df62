import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

const times = (...names: string[]) => names.map((name, i) => ({ name, type: 'bigint', isNullable: i > 0 }));

/**
 * Creates the library's tables with TypeORM's portable schema API, so the same
 * migration runs on SQLite and PostgreSQL.
 */
export class KeypairAuthInit1732320000000 implements MigrationInterface {
  name = 'KeypairAuthInit1732320000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'keypair_auth_users',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'username', type: 'varchar', length: '128', isUnique: true },
          { name: 'roles', type: 'text' },
          { name: 'active', type: 'boolean', default: true },
          { name: 'createdAt', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'keypair_auth_public_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'keyId', type: 'varchar', length: '255', isUnique: true },
          { name: 'userId', type: 'varchar', length: '36' },
          { name: 'algorithm', type: 'varchar', length: '32' },
          { name: 'publicKeyPem', type: 'text' },
          { name: 'jwk', type: 'text' },
          { name: 'fingerprint', type: 'varchar', length: '64', isUnique: true },
          { name: 'pemSha256', type: 'varchar', length: '64', isUnique: true },
          { name: 'label', type: 'varchar', length: '200', isNullable: true },
          { name: 'roles', type: 'text', isNullable: true },
          ...times('createdAt', 'expiresAt', 'revokedAt', 'lastUsedAt'),
        ],
        indices: [new TableIndex({ name: 'IDX_keypair_auth_public_keys_user', columnNames: ['userId'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'keypair_auth_nonces',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'expiresAt', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'IDX_keypair_auth_nonces_expires', columnNames: ['expiresAt'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('keypair_auth_nonces');
    await queryRunner.dropTable('keypair_auth_public_keys');
    await queryRunner.dropTable('keypair_auth_users');
  }
}
