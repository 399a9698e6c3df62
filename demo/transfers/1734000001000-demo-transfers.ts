import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/** The demo's accounts and transfers (portable schema API: SQLite and PostgreSQL). */
export class DemoTransfers1734000001000 implements MigrationInterface {
  name = 'DemoTransfers1734000001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'demo_accounts',
        columns: [
          { name: 'id', type: 'varchar', length: '32', isPrimary: true },
          { name: 'balance', type: 'integer' },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'demo_transfers',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'fromAccount', type: 'varchar', length: '32' },
          { name: 'toAccount', type: 'varchar', length: '32' },
          { name: 'amount', type: 'integer' },
          { name: 'username', type: 'varchar', length: '128' },
          { name: 'createdAt', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'IDX_demo_transfers_created', columnNames: ['createdAt'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('demo_transfers');
    await queryRunner.dropTable('demo_accounts');
  }
}
