import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { INestApplication, LoggerService, Type } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import {
  AuthUser,
  dataSourceOptionsFromUrl,
  KeypairAuthModule,
  KeypairAuthModuleOptions,
  KeyRegistry,
  TypeOrmReplayStore,
} from '../../src';
import { ProbeController } from './probe.controller';
import { createTestDatabase, DatabaseKind, TestDatabase } from './test-database';

export type AdapterName = 'express' | 'fastify';
export const ADAPTERS: AdapterName[] = ['express', 'fastify'];

/** Keeps what the app logs, so tests can assert that failures are logged with their reason. */
export class CapturingLogger implements LoggerService {
  readonly entries: { level: string; message: string; context?: string }[] = [];
  private push(level: string, message: unknown, ...rest: unknown[]): void {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    this.entries.push({ level, message: String(message), context });
    if (process.env.KPA_TEST_LOGS) console.log(level, context, message);
  }
  log(message: unknown, ...rest: unknown[]): void {
    this.push('log', message, ...rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.push('error', message, ...rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.push('warn', message, ...rest);
  }
  /** Parsed `auth.failure` events. */
  failures(): { code: string; reason: string; status: number }[] {
    return this.entries
      .filter((e) => e.context === 'KeypairAuth' && e.message.includes('"auth.failure"'))
      .map((e) => JSON.parse(e.message) as { code: string; reason: string; status: number });
  }
}

/** Counts SQL statements, so tests can prove the request path makes none. */
export class QueryCounter implements TypeOrmLogger {
  count = 0;
  logQuery(): void {
    this.count++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

export interface TestApp {
  app: INestApplication;
  /** Base URL of the listening app (real TCP on 127.0.0.1), for supertest and fetch. */
  server: string;
  registry: KeyRegistry;
  dataSource: DataSource;
  queries: QueryCounter;
  logs: CapturingLogger;
  addUser(username: string, roles: string[]): Promise<AuthUser>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  adapter: AdapterName;
  database: DatabaseKind;
  options?: KeypairAuthModuleOptions;
  adminApi?: boolean;
  jwksEndpoint?: boolean;
  globalGuard?: boolean;
  /** Rewrites the database URL the app connects to (e.g. through a fault-injecting proxy). */
  connectVia?: (url: string) => string;
  /** Use the TypeORM replay store on the app's own database, so every request needs it. */
  typeormReplayStore?: boolean;
  controllers?: Type[];
  /** Serve HTTPS with these options (key, cert, ca, requestCert, ...): `server` is then https://. */
  httpsOptions?: Pick<HttpsServerOptions, 'key' | 'cert' | 'ca' | 'requestCert' | 'rejectUnauthorized'>;
}

/** The real module on a real database over real HTTP: what every e2e test starts from. */
export async function createTestApp(config: TestAppOptions): Promise<TestApp> {
  const database: TestDatabase = await createTestDatabase(config.database);
  const queries = new QueryCounter();
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        ...dataSourceOptionsFromUrl(config.connectVia ? config.connectVia(database.url) : database.url),
        migrationsRun: true,
        logging: ['query'],
        logger: queries,
      }),
      KeypairAuthModule.forRootAsync({
        inject: [DataSource],
        useFactory: (dataSource: DataSource) => ({
          ...config.options,
          ...(config.typeormReplayStore ? { replayStore: new TypeOrmReplayStore(dataSource, 1000) } : {}),
        }),
        adminApi: config.adminApi ?? true,
        jwksEndpoint: config.jwksEndpoint,
        globalGuard: config.globalGuard,
      }),
    ],
    controllers: [ProbeController, ...(config.controllers ?? [])],
  }).compile();
  const logs = new CapturingLogger();
  moduleRef.useLogger(logs);
  let app: INestApplication;
  if (config.adapter === 'fastify') {
    const adapter = new FastifyAdapter(config.httpsOptions ? { https: config.httpsOptions } : undefined);
    const fastifyApp = moduleRef.createNestApplication<NestFastifyApplication>(adapter, {
      rawBody: true,
    });
    app = fastifyApp;
  } else {
    app = moduleRef.createNestApplication({ rawBody: true, httpsOptions: config.httpsOptions });
  }
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const registry = app.get(KeyRegistry);
  return {
    app,
    server: `${config.httpsOptions ? 'https' : 'http'}://127.0.0.1:${address.port}`,
    registry,
    dataSource: app.get(DataSource),
    queries,
    logs,
    addUser: (username, roles) => registry.directory.create!(username, roles),
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}
