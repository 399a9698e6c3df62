import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

const times = (...names: string[]) => names.map((name, i) => ({ name, type: 'bigint', isNullable: i > 2 }));

/**
 * Refresh tokens (hashed) and per-user token generations, with TypeORM's portable
 * schema API so the same migration runs on SQLite and PostgreSQL (times in epoch ms).
 */
export class KeypairAuthTokens1734100000000 implements MigrationInterface {
  name = 'KeypairAuthTokens1734100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'keypair_auth_refresh_tokens',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'familyId', type: 'varchar', length: '36' },
          { name: 'userId', type: 'varchar', length: '36' },
          { name: 'keyId', type: 'varchar', length: '255' },
          { name: 'roles', type: 'text' },
          { name: 'jkt', type: 'varchar', length: '64', isNullable: true },
          { name: 'generation', type: 'integer' },
          ...times('createdAt', 'expiresAt', 'familyExpiresAt', 'usedAt', 'revokedAt'),
        ],
        indices: [
          new TableIndex({ name: 'IDX_keypair_auth_refresh_tokens_family', columnNames: ['familyId'] }),
          new TableIndex({ name: 'IDX_keypair_auth_refresh_tokens_user', columnNames: ['userId'] }),
          new TableIndex({ name: 'IDX_keypair_auth_refresh_tokens_key', columnNames: ['keyId'] }),
          new TableIndex({
            name: 'IDX_keypair_auth_refresh_tokens_family_expires',
            columnNames: ['familyExpiresAt'],
          }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'keypair_auth_token_generations',
        columns: [
          { name: 'userId', type: 'varchar', length: '36', isPrimary: true },
          { name: 'generation', type: 'integer' },
          { name: 'updatedAt', type: 'bigint' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('keypair_auth_token_generations');
    await queryRunner.dropTable('keypair_auth_refresh_tokens');
  }
}
