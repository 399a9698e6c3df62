import 'reflect-metadata';
import { Controller, Get, Module, UseGuards, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger as TypeOrmLogger } from 'typeorm';
import {
  CurrentSecurityContext,
  dataSourceOptionsFromUrl,
  KeypairAuthGuard,
  KeypairAuthModule,
  SecurityContext,
} from '../src';
import { createRedisClient, RedisReplayStore } from '../src/redis';
import type { CpuReport } from './server';

/*
 * One server of the scale benchmark (bench/scale.ts), in a child process: Fastify,
 * the asymmetric-JWT strategy, keys and accounts in the PostgreSQL database named
 * by DATABASE_URL (created, migrated and seeded by the parent), nonces in Redis
 * through RedisReplayStore. The key cache is on (warm) or effectively off (cold:
 * ttlSeconds 0, so every request looks its key and its account up in SQL).
 * Driven over IPC like bench/server.ts: cpu-start / cpu-stop, stop.
 */

export interface ScaleServerConfig {
  cache: 'warm' | 'cold';
  redisUrl: string;
  /** Unique per benchmark run, so the parent can delete exactly these keys afterwards. */
  redisPrefix: string;
}

export type ScaleServerRequest =
  { id: number; type: 'cpu-start' } | { id: number; type: 'cpu-stop' } | { id: number; type: 'stop' };

const config = JSON.parse(process.env.BENCH_SCALE_SERVER ?? '{}') as ScaleServerConfig;
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('scale-server: DATABASE_URL is not set');

@Controller('probe')
@UseGuards(KeypairAuthGuard)
class ProbeController {
  @Get('whoami')
  whoami(@CurrentSecurityContext() ctx: SecurityContext): ReturnType<SecurityContext['toJSON']> {
    return ctx.toJSON();
  }
}

/** Counts SQL statements: SELECTs are key/account lookups, the rest the batched lastUsedAt updates. */
class QueryCounter implements TypeOrmLogger {
  selects = 0;
  writes = 0;
  logQuery(query: string): void {
    if (/^\s*SELECT/i.test(query)) this.selects++;
    else this.writes++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
const queries = new QueryCounter();
const redis = createRedisClient(config.redisUrl);

function appModule(): Type {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...dataSourceOptionsFromUrl(databaseUrl),
        logging: ['query'],
        logger: queries,
      }),
      KeypairAuthModule.forRoot({
        strategies: ['jwt'],
        replayStore: new RedisReplayStore(redis, { prefix: config.redisPrefix }),
        ...(config.cache === 'cold' ? { keyCache: { ttlSeconds: 0, negativeTtlSeconds: 0 } } : {}),
      }),
    ],
    controllers: [ProbeController],
  })
  class ScaleAppModule {}
  return ScaleAppModule;
}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(appModule(), new FastifyAdapter(), {
    rawBody: true,
    logger: ['error', 'warn'],
  });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };

  let cpuStart = process.cpuUsage();
  let selectsStart = 0;
  let writesStart = 0;
  let eluStart = performance.eventLoopUtilization();
  process.on('message', (message: ScaleServerRequest) => {
    void (async () => {
      let reply: unknown = null;
      switch (message.type) {
        case 'cpu-start':
          cpuStart = process.cpuUsage();
          selectsStart = queries.selects;
          writesStart = queries.writes;
          eluStart = performance.eventLoopUtilization();
          break;
        case 'cpu-stop': {
          const cpu = process.cpuUsage(cpuStart);
          const elu = performance.eventLoopUtilization(eluStart);
          reply = {
            userUs: cpu.user,
            systemUs: cpu.system,
            sqlSelects: queries.selects - selectsStart,
            sqlWrites: queries.writes - writesStart,
            elu: elu.utilization,
            windowUs: (elu.idle + elu.active) * 1000,
          } satisfies CpuReport;
          break;
        }
        case 'stop':
          await app.close();
          await redis.quit().catch(() => redis.disconnect());
          process.send!({ id: message.id, reply: null }, () => process.exit(0));
          return;
      }
      process.send!({ id: message.id, reply });
    })().catch((error: unknown) => {
      process.send!({ id: message.id, error: String((error as Error)?.stack ?? error) });
    });
  });
  // Never outlive the harness.
  process.on('disconnect', () => process.exit(1));
  process.send!({ ready: true, port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
