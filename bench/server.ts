import 'reflect-metadata';
import { Controller, Get, Module, UseGuards, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createPublicKey, verify } from 'node:crypto';
import type { Logger as TypeOrmLogger } from 'typeorm';
import {
  CertificateRegistry,
  CurrentSecurityContext,
  dataSourceOptionsFromUrl,
  KeypairAuthGuard,
  KeypairAuthModule,
  KeyRegistry,
  SecurityContext,
} from '../src';
import { createRedisClient, RedisReplayStore, whenReady } from '../src/redis';
import { profileSummary, startProfile, stopProfile } from './profile';

/*
 * One benchmark server, run as a child process of run.ts (so the load generator
 * never shares its event loop). Configured by BENCH_SERVER (JSON), driven over
 * the IPC channel: cpu-start / cpu-stop (CPU time and SQL statements during a
 * run), profile-start / profile-stop, stop.
 */

export type ServerKind = 'bare' | 'limit' | 'auth';
export type AdapterName = 'fastify' | 'express';

export interface ServerConfig {
  adapter: AdapterName;
  kind: ServerKind;
  /** auth: the SQLite file of the key store, and the key to register before listening. */
  sqlitePath?: string;
  username?: string;
  roles?: string[];
  keyId?: string;
  publicPem?: string;
  /**
   * auth, client-certificate strategy: the bench user's certificate, registered by fingerprint,
   * forwarded in nginx's format by a "proxy" on 127.0.0.1 (the load generator).
   */
  certificatePem?: string;
  /** auth, tokens (and the token endpoints): the Ed25519 server key (PKCS#8 PEM) that signs access tokens. */
  serverKeyPem?: string;
  /** auth: nonces in Redis (RedisReplayStore) under this run's prefix, instead of MemoryReplayStore. */
  redis?: { url: string; prefix: string };
  /** limit: the one Ed25519 verification done per request. */
  limit?: { publicPem: string; messageB64: string; signatureB64: string };
}

export type ServerRequest =
  | { id: number; type: 'cpu-start' }
  | { id: number; type: 'cpu-stop' }
  | { id: number; type: 'profile-start' }
  | { id: number; type: 'profile-stop'; dir: string; name: string }
  | { id: number; type: 'stop' };

export interface CpuReport {
  userUs: number;
  systemUs: number;
  /** SQL reads during the run: key or user cache misses. */
  sqlSelects: number;
  /** SQL writes during the run: the batched lastUsedAt update (every 5 s, off the request path). */
  sqlWrites: number;
  /** Event-loop utilization over the window, and the window's length. */
  elu: number;
  windowUs: number;
}

const config = JSON.parse(process.env.BENCH_SERVER ?? '{}') as ServerConfig;

/** What the routes return: the same shape as /probe/whoami, so response sizes match. */
const FIXED_BODY = { username: 'bench', keyId: 'bench-ed25519', method: 'none', roles: ['reader'] };

@Controller()
class BareController {
  @Get('bare')
  bare(): typeof FIXED_BODY {
    return FIXED_BODY;
  }
}

const limitKey = config.limit ? createPublicKey(config.limit.publicPem) : undefined;
const limitMessage = config.limit ? Buffer.from(config.limit.messageB64, 'base64') : Buffer.alloc(0);
const limitSignature = config.limit ? Buffer.from(config.limit.signatureB64, 'base64') : Buffer.alloc(0);

@Controller()
class LimitController {
  /** The bare route plus the one unavoidable cost: an Ed25519 verification with a cached KeyObject. */
  @Get('limit')
  limit(): typeof FIXED_BODY {
    if (!verify(null, limitMessage, limitKey!, limitSignature)) throw new Error('limit: verify failed');
    return FIXED_BODY;
  }
}

/** The limit's Redis keys: the run's prefix, then a counter (unique, as nonces are). */
let limitClaims = 0;

@Controller()
class RedisLimitController {
  /**
   * The limit plus what a shared replay store cannot avoid: one `SET key 1 PX ttl NX`
   * round trip, through the same ioredis client options as RedisReplayStore's.
   */
  @Get('limit')
  async limit(): Promise<typeof FIXED_BODY> {
    if (!verify(null, limitMessage, limitKey!, limitSignature)) throw new Error('limit: verify failed');
    const key = `${config.redis!.prefix}limit:${limitClaims++}`;
    if ((await redis!.set(key, '1', 'PX', 41_000, 'NX')) !== 'OK') throw new Error('limit: SET NX refused');
    return FIXED_BODY;
  }
}

@Controller('probe')
@UseGuards(KeypairAuthGuard)
class ProbeController {
  @Get('whoami')
  whoami(@CurrentSecurityContext() ctx: SecurityContext): ReturnType<SecurityContext['toJSON']> {
    return ctx.toJSON();
  }
}

/** Counts SQL statements, to show the request path is served from the key cache. */
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
const redis = config.redis ? createRedisClient(config.redis.url) : undefined;

/** Access tokens live an hour (the most tokens allow), longer than any benchmark run. */
const ACCESS_TOKEN_TTL_S = 3600;

/**
 * The module's options for this server: the defaults (both signature strategies, memory
 * replay store), plus what the config adds. Each addition enables its strategy next to
 * the defaults, as it would in an app; the guard picks one by what the request carries.
 */
function authOptions(): Parameters<typeof KeypairAuthModule.forRoot>[0] {
  return {
    ...(redis ? { replayStore: new RedisReplayStore(redis, { prefix: config.redis!.prefix }) } : {}),
    // The proxy has verified the certificate (X-SSL-Client-Verify: SUCCESS). Without caBundle
    // the strategy only checks the dates: no signature is verified per request.
    ...(config.certificatePem
      ? {
          clientCertificate: {
            format: 'nginx' as const,
            trustedProxies: ['127.0.0.1'],
            mapping: { by: 'fingerprint' as const },
          },
        }
      : {}),
    ...(config.serverKeyPem
      ? {
          responseSigning: { keys: [{ keyId: 'bench-server', privateKey: config.serverKeyPem }] },
          tokens: { accessTokenTtlSeconds: ACCESS_TOKEN_TTL_S },
          tokenApi: true,
        }
      : {}),
  };
}

function appModule(): Type {
  if (config.kind === 'auth') {
    @Module({
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptionsFromUrl(`sqlite:${config.sqlitePath}`),
          migrationsRun: true,
          logging: ['query'],
          logger: queries,
        }),
        KeypairAuthModule.forRoot(authOptions()),
      ],
      controllers: [ProbeController],
    })
    class AuthAppModule {}
    return AuthAppModule;
  }
  const controller =
    config.kind === 'bare' ? BareController : config.redis ? RedisLimitController : LimitController;
  @Module({ controllers: [controller] })
  class BareAppModule {}
  return BareAppModule;
}

async function main(): Promise<void> {
  // A Redis that does not answer fails the start, not the first measured request.
  if (redis) await whenReady(redis, 5000);
  const logger = ['error', 'warn'] as ('error' | 'warn')[];
  const app: INestApplication =
    config.adapter === 'fastify'
      ? await NestFactory.create<NestFastifyApplication>(appModule(), new FastifyAdapter(), {
          rawBody: true,
          logger,
        })
      : await NestFactory.create(appModule(), { rawBody: true, logger });
  if (config.kind === 'auth') {
    const registry = app.get(KeyRegistry);
    const user = await registry.directory.create!(config.username!, config.roles ?? []);
    await registry.register(user, config.publicPem!, { keyId: config.keyId });
    if (config.certificatePem) await app.get(CertificateRegistry).register(user, config.certificatePem);
  }
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };

  let cpuStart = process.cpuUsage();
  let selectsStart = 0;
  let writesStart = 0;
  let eluStart = performance.eventLoopUtilization();
  process.on('message', (message: ServerRequest) => {
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
        case 'profile-start':
          await startProfile();
          break;
        case 'profile-stop':
          reply = profileSummary(await stopProfile(), message.dir, message.name);
          break;
        case 'stop':
          await app.close();
          await redis?.quit().catch(() => redis.disconnect());
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
