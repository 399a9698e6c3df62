import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * `algorithmDefaulted` on registered keys: true when the key was registered without an
 * algorithm (an RSA key then accepts the PKCS#1 v1.5 family: RS256/RS384/RS512). Rows
 * that exist when this runs get false: they stay pinned to their one algorithm, since
 * nothing recorded whether an operator chose it. Portable schema API (SQLite, PostgreSQL).
 */
export class KeypairAuthKeyAlgorithmDefaulted1734200000000 implements MigrationInterface {
  name = 'KeypairAuthKeyAlgorithmDefaulted1734200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'keypair_auth_public_keys',
      new TableColumn({ name: 'algorithmDefaulted', type: 'boolean', isNullable: false, default: false }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('keypair_auth_public_keys', 'algorithmDefaulted');
  }
}
