import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from './src/database/keypair-auth-data-source';

/**
 * The DataSource for the TypeORM CLI (`npx typeorm -d dist/ormconfig.js migration:run`).
 * Same default as the demo server and our CLI: SQLite in ./data, or DATABASE_URL.
 */
export default new DataSource(dataSourceOptionsFromUrl(process.env.DATABASE_URL));
