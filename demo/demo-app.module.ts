import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptionsFromUrl, KeypairAuthModule } from '../src';
import { DemoController } from './demo.controller';

export interface DemoConfig {
  /** `sqlite:PATH` or `postgres://…` (default: SQLite in ./data). */
  databaseUrl?: string;
}

/**
 * The demo app: the library as a team would wire it. TypeORM holds the key tables
 * (migrated at start), the guard protects every route unless @Public(), and the
 * admin API is mounted.
 */
@Module({})
export class DemoAppModule {
  static forRoot(config: DemoConfig = {}): DynamicModule {
    return {
      module: DemoAppModule,
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptionsFromUrl(config.databaseUrl), migrationsRun: true }),
        KeypairAuthModule.forRoot({ adminApi: true, globalGuard: true }),
      ],
      controllers: [DemoController],
    };
  }
}
