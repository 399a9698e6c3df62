import autocannon from 'autocannon';
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptionsFromUrl } from '../src/database/keypair-auth-data-source';
import { parsePublicKey } from '../src/keys/formats/public-key-parser';
import { createRedisClient, RedisReplayStore, whenReady, type RedisClient } from '../src/redis';
import { ChildServer } from './child-server';
import { formatNumber, median, nowMs, type Row } from './common';
import { deletePrefix, redact, redisUnreachable } from './redis-keys';
import type { MemoryReport } from './scale-memory';
import type { ScaleServerConfig, ScaleServerRequest } from './scale-server';
import { ScaleSigner, type ScaleRequest, type ScaleSignerKey } from './scale-signer';
import type { CpuReport } from './server';

/*
 * The scale-out group of `npm run bench` (issue 5), `--only=scale`:
 *
 * 1. Key-store size: the asymmetric-JWT strategy on Fastify, keys and accounts in
 *    PostgreSQL, nonces in Redis (RedisReplayStore), with 100 registered keys and
 *    with 1,000,000 (100,000 with --quick), each in a fresh database created,
 *    migrated and seeded here and dropped at the end. Two regimes at each size:
 *    key cache warm (a handful of keys in use: no SQL on the request path) and
 *    key cache off (every request looks its key and its account up in SQL).
 *    The big database's rows are compared with the 100-key rows of the same
 *    regime, round by round: target ≥ 0.90 for req/s and for p99.
 * 2. Memory per nonce: MemoryReplayStore (heap, in a child with --expose-gc) and
 *    Redis (INFO used_memory), and the capacity the defaults imply.
 *
 * Skipped with a message when PostgreSQL or Redis cannot be reached. Everything
 * created (databases, Redis keys, child processes) is removed at the end, also on
 * failure and on Ctrl-C (cleanupScaleSync, called by run.ts).
 */

export interface ScaleOptions {
  quick: boolean;
  /** Registered keys in the big database (1,000,000; 100,000 with --quick). */
  keys: number;
  runs: number;
  durationS: number;
  warmupS: number;
  connections: number;
  /** Nonces claimed for the bytes-per-nonce measurements. */
  nonces: number;
  /** Repetitions of the Redis memory measurement (median reported). */
  redisRepeats: number;
  /** Fill the memory store to its default capacity (1M) and time a refused claim. */
  fillMemoryStore: boolean;
  pgUrl: string;
  redisUrl: string;
  log: (line: string) => void;
}

export const SMALL_KEYS = 100;
/** Real Ed25519 keys in each database (all of the small one), spread evenly through the big one. */
export const REAL_KEYS = 100;
/** Keys in use in the warm regime ("a handful"). */
export const WARM_KEYS = 5;
/** The JWT claim TTL (clockSkewSeconds 20: time within ±20 s, + 1 s) and the signature one (maxAge 300 + skew 20). */
const JWT_TTL_S = 2 * 20 + 1;
const SIGNATURE_TTL_S = 300 + 20;
const MEMORY_STORE_MAX_ENTRIES = 1_000_000;
const SAMPLE_MS = 100;
const ROUTE = '/probe/whoami';

export interface ScaleRun {
  rate: number;
  /** From every 2xx response time (autocannon's 'response' event), in ms with µs precision. */
  p50Ms: number;
  p99Ms: number;
  autocannonP99Ms: number;
  requests: number;
  durationS: number;
  serverCpuUsPerRequest: number;
  mainThreadUsPerRequest: number;
  serverEventLoopUtilization: number;
  sqlSelects: number;
  sqlWrites: number;
  poolSize: number;
  poolUsed: number;
  poolExhausted: boolean;
  /** Time to pre-sign the pool (worker threads), before the run. */
  signMs: number;
  /** Busy cores on the whole machine during the run (Linux), PostgreSQL and Redis included. */
  machineBusyCores: number | null;
}

export interface SeedReport {
  database: string;
  keys: number;
  users: number;
  realKeys: number;
  totalMs: number;
  insertMs: number;
  indexMs: number;
  /** Indexes (unique constraints included) the migration made, dropped and rebuilt around the insert. */
  indexes: number;
  vacuumAnalyzeMs: number;
  sizes: { keysTable: string; keysTotal: string; usersTotal: string };
  /** EXPLAIN of the two lookups the request path makes. */
  explain: { keyById: string[]; userById: string[] };
}

export interface RedisMemoryRun {
  prefix: string;
  before: number;
  after: number;
  bytesPerNonce: number;
  /** MEMORY USAGE of sampled keys (Redis's own per-key estimate), median. */
  memoryUsageMedian: number;
  claimsPerSecond: number;
  deleted: number;
}

export interface ScaleDetails {
  settings: Omit<ScaleOptions, 'log'> & { smallKeys: number; realKeys: number; warmKeys: number };
  seeds: SeedReport[];
  runs: Record<string, ScaleRun[]>;
  warmups: Record<string, ScaleRun>;
  memory?: MemoryReport;
  redis?: { runs: RedisMemoryRun[]; bytesPerNonce: number; memoryUsageMedian: number; keyLength: number };
  capacity?: Record<string, number>;
  elapsedSeconds: Record<string, number>;
}

export interface ScaleResult {
  rows: Row[];
  /** Lines for the report: settings, targets, memory, capacity, notes. */
  lines: string[];
  skipped?: string;
  details?: ScaleDetails;
}

interface RealKey extends ScaleSignerKey {
  id: string;
  userId: string;
  pem: string;
  jwk: string;
  fingerprint: string;
  pemSha256: string;
}

interface Scenario {
  name: string;
  regime: 'warm' | 'cold';
  keys: number;
  database: string;
  keysInUse: number;
  baseline?: string;
  server?: ScaleServer;
  expected: number;
}

/* ------------------------------------------------------------------------------------------------
 * What this run created, so that it can be removed also on failure or Ctrl-C.
 * --------------------------------------------------------------------------------------------- */

const created = {
  pgUrl: '',
  redisUrl: '',
  databases: new Set<string>(),
  redisPrefixes: new Set<string>(),
  servers: new Set<ChildServer<never>>(),
  children: new Set<ChildProcess>(),
};

function databaseUrl(pgUrl: string, name: string): string {
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin<T>(pgUrl: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: pgUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops the databases and deletes the Redis keys this run created. */
async function removeCreated(): Promise<string[]> {
  const problems: string[] = [];
  for (const server of created.servers) server.kill();
  for (const child of created.children) child.kill('SIGKILL');
  for (const name of [...created.databases]) {
    try {
      await withAdmin(created.pgUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      created.databases.delete(name);
    } catch (error) {
      problems.push(`could not drop database ${name}: ${(error as Error).message}`);
    }
  }
  if (created.redisPrefixes.size > 0) {
    const redis = createRedisClient(created.redisUrl);
    try {
      await whenReady(redis, 3000);
      for (const prefix of [...created.redisPrefixes]) {
        await deletePrefix(redis, prefix);
        created.redisPrefixes.delete(prefix);
      }
    } catch (error) {
      problems.push(
        `could not delete Redis keys ${[...created.redisPrefixes].map((p) => `${p}*`).join(', ')}: ${(error as Error).message}`,
      );
    } finally {
      redis.disconnect();
    }
  }
  return problems;
}

/**
 * For exit paths that cannot wait (Ctrl-C, an uncaught exception): kills the servers
 * and removes the databases and Redis keys from a child process, synchronously.
 */
export function cleanupScaleSync(): void {
  for (const server of created.servers) server.kill();
  for (const child of created.children) child.kill('SIGKILL');
  if (created.databases.size === 0 && created.redisPrefixes.size === 0) return;
  const state = {
    pgUrl: created.pgUrl,
    redisUrl: created.redisUrl,
    databases: [...created.databases],
    redisPrefixes: [...created.redisPrefixes],
  };
  const result = spawnSync(process.execPath, [__filename, '--cleanup'], {
    env: { ...process.env, BENCH_SCALE_CLEANUP: JSON.stringify(state) },
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 30_000,
  });
  if (result.status !== 0) {
    console.error(
      `scale: cleanup incomplete; drop these by hand: ${state.databases.join(', ')} (DROP DATABASE … WITH (FORCE)), ` +
        `Redis keys ${state.redisPrefixes.map((p) => `${p}*`).join(', ')} (they expire within ${JWT_TTL_S} s anyway)`,
    );
  }
  created.databases.clear();
  created.redisPrefixes.clear();
}

/* ------------------------------------------------------------------------------------------------
 * Servers
 * --------------------------------------------------------------------------------------------- */

/** A scale-benchmark server in a child process, on the given database. */
type ScaleServer = ChildServer<ScaleServerRequest>;

function startScaleServer(name: string, url: string, config: ScaleServerConfig): Promise<ScaleServer> {
  return ChildServer.start<ScaleServerRequest>(
    name,
    'scale-server.js',
    { DATABASE_URL: url, BENCH_SCALE_SERVER: JSON.stringify(config) },
    created.servers,
  );
}

/* ------------------------------------------------------------------------------------------------
 * Databases: create, migrate, seed
 * --------------------------------------------------------------------------------------------- */

function realKeys(count: number): RealKey[] {
  return Array.from({ length: count }, (_, i) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const parsed = parsePublicKey(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    return {
      id: randomUUID(),
      // What register() uses when no keyId is given: the RFC 7638 thumbprint.
      keyId: parsed.thumbprint,
      userId: randomUUID(),
      username: `bench-${String(i).padStart(4, '0')}`,
      privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      pem: parsed.spkiPem,
      jwk: JSON.stringify({ ...parsed.jwk }),
      fingerprint: parsed.thumbprint,
      pemSha256: parsed.pemSha256,
    };
  });
}

const b64url = (expr: string) => `rtrim(translate(encode(${expr}, 'base64'), '+/', '-_'), '=')`;

/**
 * Users and keys of rows lo..hi in one INSERT … SELECT each: row g is real key k
 * when g = k * step (k = 1..real), otherwise syntactically valid filler: an Ed25519
 * SPKI PEM and JWK of 32 pseudo-random bytes (never parsed: rows are parsed only
 * when looked up), unique keyId (43-character base64url, like a thumbprint),
 * fingerprint, pemSha256 and ids. One user per key.
 */
async function insertRange(c: Client, lo: number, hi: number, step: number, real: RealKey[]): Promise<void> {
  const createdAt = Date.now() - 86_400_000;
  await c.query(
    `INSERT INTO keypair_auth_users (id, username, roles, active, "createdAt")
     SELECT COALESCE(r.id, md5('u' || g)::uuid::text), COALESCE(r.username, 'user-' || g), '["reader"]', true, $4::bigint + g
     FROM generate_series($1::int, $2::int) g
     LEFT JOIN unnest($5::text[], $6::text[]) WITH ORDINALITY AS r(id, username, ord) ON g = r.ord * $3::int`,
    [lo, hi, step, createdAt, real.map((k) => k.userId), real.map((k) => k.username)],
  );
  await c.query(
    `INSERT INTO keypair_auth_public_keys
       (id, "keyId", "userId", algorithm, "publicKeyPem", jwk, fingerprint, "pemSha256", label, roles,
        "createdAt", "expiresAt", "revokedAt", "lastUsedAt")
     SELECT COALESCE(r.id, md5('i' || g)::uuid::text),
            COALESCE(r.key_id, ${b64url(`sha256(('k' || g)::bytea)`)}),
            COALESCE(r.user_id, md5('u' || g)::uuid::text),
            'ed25519',
            COALESCE(r.pem, E'-----BEGIN PUBLIC KEY-----\\n' || encode('\\x302a300506032b6570032100'::bytea || x.x, 'base64') || E'\\n-----END PUBLIC KEY-----\\n'),
            COALESCE(r.jwk, '{"crv":"Ed25519","x":"' || ${b64url('x.x')} || '","kty":"OKP"}'),
            COALESCE(r.fingerprint, ${b64url(`sha256(('f' || g)::bytea)`)}),
            COALESCE(r.pem_sha256, encode(sha256(('p' || g)::bytea), 'hex')),
            NULL, NULL, $4::bigint + g, NULL, NULL, NULL
     FROM generate_series($1::int, $2::int) g
     CROSS JOIN LATERAL (SELECT sha256(('x' || g)::bytea) AS x) x
     LEFT JOIN unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
       WITH ORDINALITY AS r(id, key_id, user_id, pem, jwk, fingerprint, pem_sha256, ord) ON g = r.ord * $3::int`,
    [
      lo,
      hi,
      step,
      createdAt,
      real.map((k) => k.id),
      real.map((k) => k.keyId),
      real.map((k) => k.userId),
      real.map((k) => k.pem),
      real.map((k) => k.jwk),
      real.map((k) => k.fingerprint),
      real.map((k) => k.pemSha256),
    ],
  );
}

const TABLES = ['keypair_auth_public_keys', 'keypair_auth_users'];

async function schemaOf(c: Client): Promise<{
  constraints: { tbl: string; conname: string; def: string; contype: string }[];
  indexes: { indexname: string; indexdef: string }[];
}> {
  const constraints = (
    await c.query<{ tbl: string; conname: string; def: string; contype: string }>(
      `SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def, contype::text
       FROM pg_constraint WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u') ORDER BY conname`,
      [TABLES],
    )
  ).rows;
  const indexes = (
    await c.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[]) ORDER BY indexname`,
      [TABLES],
    )
  ).rows;
  return { constraints, indexes };
}

/**
 * A fresh database with `total` keys (and as many users), migrated with the library's
 * migrations. Fast path: the indexes the migration made are dropped, the rows inserted
 * on two connections, and the same indexes and constraints rebuilt (two at a time),
 * then checked to be exactly what the migration made; then VACUUM (ANALYZE), the
 * state of a table that has lived a while (and no autovacuum during the runs).
 */
async function createSeededDatabase(
  opts: ScaleOptions,
  name: string,
  total: number,
  real: RealKey[],
): Promise<{ url: string; report: SeedReport }> {
  const started = nowMs();
  await withAdmin(opts.pgUrl, async (c) => {
    await c.query(`CREATE DATABASE ${name}`);
    created.databases.add(name);
  });
  const url = databaseUrl(opts.pgUrl, name);
  const ds = new DataSource(dataSourceOptionsFromUrl(url));
  await ds.initialize();
  try {
    await ds.runMigrations();
  } finally {
    await ds.destroy();
  }

  const connections = [new Client({ connectionString: url }), new Client({ connectionString: url })];
  try {
    for (const c of connections) {
      await c.connect();
      await c.query(`SET synchronous_commit = off`);
      await c.query(`SET maintenance_work_mem = '256MB'`);
      await c.query(`SET statement_timeout = '180s'`);
    }
    const [c1] = connections;
    const schema = await schemaOf(c1);
    const constraintNames = new Set(schema.constraints.map((x) => x.conname));
    const plainIndexes = schema.indexes.filter((i) => !constraintNames.has(i.indexname));
    for (const x of schema.constraints) await c1.query(`ALTER TABLE ${x.tbl} DROP CONSTRAINT "${x.conname}"`);
    for (const i of plainIndexes) await c1.query(`DROP INDEX "${i.indexname}"`);

    const t0 = nowMs();
    const step = Math.floor(total / real.length);
    const half = Math.floor(total / 2);
    await Promise.all([
      insertRange(connections[0], 1, half, step, real),
      insertRange(connections[1], half + 1, total, step, real),
    ]);
    const insertMs = nowMs() - t0;

    const t1 = nowMs();
    // CREATE INDEX takes a SHARE lock: two builds can run at once on the same table.
    const builds = [
      ...schema.constraints.map((x) => {
        const columns = /\((.+)\)$/.exec(x.def)?.[1];
        if (!columns) throw new Error(`unexpected constraint ${x.conname}: ${x.def}`);
        return `CREATE UNIQUE INDEX "${x.conname}" ON ${x.tbl} (${columns})`;
      }),
      ...plainIndexes.map((i) => i.indexdef),
    ];
    let next = 0;
    await Promise.all(
      connections.map(async (c) => {
        while (next < builds.length) await c.query(builds[next++]);
      }),
    );
    for (const x of schema.constraints) {
      const kind = x.contype === 'p' ? 'PRIMARY KEY' : 'UNIQUE';
      await c1.query(`ALTER TABLE ${x.tbl} ADD CONSTRAINT "${x.conname}" ${kind} USING INDEX "${x.conname}"`);
    }
    const rebuilt = await schemaOf(c1);
    if (JSON.stringify(rebuilt) !== JSON.stringify(schema)) {
      throw new Error(
        `seeding ${name}: the rebuilt indexes differ from the migration's:\n${JSON.stringify(schema)}\n${JSON.stringify(rebuilt)}`,
      );
    }
    const indexMs = nowMs() - t1;

    const t2 = nowMs();
    await c1.query(`VACUUM (ANALYZE) keypair_auth_public_keys, keypair_auth_users`);
    const vacuumAnalyzeMs = nowMs() - t2;

    const count = await c1.query<{ keys: string; users: string; real: string }>(
      `SELECT (SELECT count(*) FROM keypair_auth_public_keys) AS keys, (SELECT count(*) FROM keypair_auth_users) AS users,
              (SELECT count(*) FROM keypair_auth_public_keys WHERE "keyId" = ANY($1::text[])) AS real`,
      [real.map((k) => k.keyId)],
    );
    const row = count.rows[0];
    if (Number(row.keys) !== total || Number(row.users) !== total || Number(row.real) !== real.length) {
      throw new Error(
        `seeding ${name}: ${JSON.stringify(row)}, expected ${total} keys and users, ${real.length} real`,
      );
    }
    const sizes = (
      await c1.query<{ keysTable: string; keysTotal: string; usersTotal: string }>(
        `SELECT pg_size_pretty(pg_relation_size('keypair_auth_public_keys')) AS "keysTable",
                pg_size_pretty(pg_total_relation_size('keypair_auth_public_keys')) AS "keysTotal",
                pg_size_pretty(pg_total_relation_size('keypair_auth_users')) AS "usersTotal"`,
      )
    ).rows[0];
    // The statements TypeORM sends for findOneBy({ keyId }) and findOneBy({ id }).
    const plan = async (sql: string, value: string) =>
      (await c1.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [value])).rows.map((r) => r['QUERY PLAN']);
    const explain = {
      keyById: await plan(`SELECT * FROM keypair_auth_public_keys WHERE "keyId" = $1 LIMIT 1`, real[0].keyId),
      userById: await plan(`SELECT * FROM keypair_auth_users WHERE id = $1 LIMIT 1`, real[0].userId),
    };
    return {
      url,
      report: {
        database: name,
        keys: total,
        users: total,
        realKeys: real.length,
        totalMs: nowMs() - started,
        insertMs,
        indexMs,
        indexes: schema.indexes.length,
        vacuumAnalyzeMs,
        sizes,
        explain,
      },
    };
  } finally {
    await Promise.all(connections.map((c) => c.end().catch(() => undefined)));
  }
}

/* ------------------------------------------------------------------------------------------------
 * Memory per nonce
 * --------------------------------------------------------------------------------------------- */

function memoryStoreReport(opts: ScaleOptions): Promise<MemoryReport> {
  return new Promise((resolve, reject) => {
    const child = fork(join(__dirname, 'scale-memory.js'), [], {
      execArgv: ['--expose-gc'],
      env: {
        ...process.env,
        BENCH_NONCES: String(opts.nonces),
        BENCH_FILL: opts.fillMemoryStore ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    created.children.add(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      created.children.delete(child);
      if (code !== 0) {
        reject(new Error(`memory store measurement failed (${code ?? signal}): ${err.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as MemoryReport);
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

async function usedMemory(redis: RedisClient): Promise<number> {
  const info = await redis.info('memory');
  const m = /^used_memory:(\d+)/m.exec(info);
  if (!m) throw new Error('INFO memory has no used_memory');
  return Number(m[1]);
}

/**
 * Redis `used_memory` before and after claiming N nonces through RedisReplayStore (JWT
 * shape, TTL 41 s), under a unique 10-character prefix (as long as the default
 * `kpa:nonce:`), then SCAN + UNLINK of that prefix. Repeated; the median is reported.
 */
async function redisMemory(opts: ScaleOptions): Promise<NonNullable<ScaleDetails['redis']>> {
  const redis = createRedisClient(opts.redisUrl, { commandTimeout: 10_000 });
  const runs: RedisMemoryRun[] = [];
  let keyLength = 0;
  try {
    await whenReady(redis, 3000);
    const users = Array.from({ length: 1000 }, () => randomUUID());
    for (let r = 0; r < opts.redisRepeats; r++) {
      const prefix = `kb${randomBytes(4).toString('hex').slice(0, 7)}:`;
      created.redisPrefixes.add(prefix);
      const store = new RedisReplayStore(redis, { prefix });
      const before = await usedMemory(redis);
      const t0 = nowMs();
      let next = 0;
      await Promise.all(
        Array.from({ length: 200 }, async () => {
          while (next < opts.nonces) {
            next++;
            const fresh = await store.claim(
              `jwt:${users[next % users.length]}`,
              randomBytes(16).toString('base64url'),
              JWT_TTL_S * 1000,
            );
            if (!fresh) throw new Error('a fresh nonce was refused by Redis');
            if (nowMs() - t0 > 30_000) throw new Error('claiming the nonces in Redis took more than 30 s');
          }
        }),
      );
      const claimMs = nowMs() - t0;
      const after = await usedMemory(redis);
      const [, sample] = (await redis.call('SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '2000')) as [
        string,
        string[],
      ];
      keyLength = sample[0]?.length ?? 0;
      const usage: number[] = [];
      for (const key of sample.slice(0, 50)) {
        usage.push(Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')));
      }
      const deleted = await deletePrefix(redis, prefix);
      created.redisPrefixes.delete(prefix);
      if (deleted !== opts.nonces)
        throw new Error(`deleted ${deleted} keys under ${prefix}, claimed ${opts.nonces}`);
      runs.push({
        prefix,
        before,
        after,
        bytesPerNonce: (after - before) / opts.nonces,
        memoryUsageMedian: median(usage),
        claimsPerSecond: opts.nonces / (claimMs / 1000),
        deleted,
      });
      opts.log(
        `scale: Redis: ${((after - before) / opts.nonces).toFixed(1)} bytes/nonce (used_memory), ` +
          `MEMORY USAGE ${median(usage)} bytes/key, ${Math.round(opts.nonces / (claimMs / 1000))} claims/s`,
      );
    }
  } finally {
    redis.disconnect();
  }
  return {
    runs,
    bytesPerNonce: median(runs.map((r) => r.bytesPerNonce)),
    memoryUsageMedian: median(runs.map((r) => r.memoryUsageMedian)),
    keyLength,
  };
}

/* ------------------------------------------------------------------------------------------------
 * HTTP runs
 * --------------------------------------------------------------------------------------------- */

function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Signed requests per ms on all signer threads; refined as pools are made. */
let signingRate = 20;

async function measure(
  s: Scenario,
  durationS: number,
  opts: ScaleOptions,
  signer: ScaleSigner,
  expectedRate: number,
): Promise<ScaleRun> {
  const server = s.server!;
  const count =
    Math.ceil(Math.max(expectedRate, 500) * (durationS * 1.8 + (3 * SAMPLE_MS) / 1000)) +
    50 * opts.connections;
  const estimateMs = count / signingRate;
  // JWT `time` must be within ±20 s when used: aim it at the middle of the run.
  const time = Math.round((Date.now() + estimateMs + (durationS * 1000) / 2) / 1000);
  const signStarted = nowMs();
  const pool: ScaleRequest[] = await signer.sign(count, s.keysInUse, time, ROUTE);
  const signMs = nowMs() - signStarted;
  signingRate = count / Math.max(signMs, 1);

  let next = 0;
  let exhausted = false;
  let overrun = false;
  const margin = Math.ceil((Math.max(expectedRate, 500) * 3 * SAMPLE_MS) / 1000) + 20 * opts.connections;
  let instance: autocannon.Instance | undefined;
  const latencies: number[] = [];
  const request: autocannon.Request = {
    method: 'GET',
    setupRequest: (req) => {
      if (!exhausted && next >= pool.length - margin) {
        exhausted = true;
        instance?.stop();
      }
      if (next >= pool.length) overrun = true;
      const signed = pool[Math.min(next++, pool.length - 1)];
      return { ...req, path: signed.path, headers: signed.headers };
    },
  };

  await server.request({ type: 'cpu-start' });
  const ticks0 = machineTicks();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: `http://127.0.0.1:${server.port}`,
        connections: opts.connections,
        pipelining: 1,
        duration: durationS,
        requests: [request],
        timeout: 10,
        sampleInt: SAMPLE_MS,
      },
      (error: unknown, res: autocannon.Result) => (error ? reject(error) : resolve(res)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
  const ticks1 = machineTicks();
  const cpu = await server.request<CpuReport>({ type: 'cpu-stop' });

  const elapsedS = (result.finish.getTime() - result.start.getTime()) / 1000;
  const ok = result['2xx'];
  const sorted = Float64Array.from(latencies).sort();
  const run: ScaleRun = {
    rate: ok / elapsedS,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    autocannonP99Ms: result.latency.p99,
    requests: result.requests.total,
    durationS: elapsedS,
    serverCpuUsPerRequest: (cpu.userUs + cpu.systemUs) / Math.max(ok, 1),
    mainThreadUsPerRequest: (cpu.elu * cpu.windowUs) / Math.max(ok, 1),
    serverEventLoopUtilization: Math.round(cpu.elu * 1000) / 1000,
    sqlSelects: cpu.sqlSelects,
    sqlWrites: cpu.sqlWrites,
    poolSize: pool.length,
    poolUsed: next,
    poolExhausted: exhausted,
    signMs: Math.round(signMs),
    machineBusyCores:
      ticks0 && ticks1 && ticks1.total > ticks0.total
        ? Math.round(((ticks1.busy - ticks0.busy) / (ticks1.total - ticks0.total)) * cpus().length * 100) /
          100
        : null,
  };
  if (overrun) {
    throw new Error(`${s.name}: the pool of ${pool.length} pre-signed requests ran out (harness bug)`);
  }
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || ok === 0) {
    throw new Error(
      `${s.name}: ${result.non2xx} non-2xx responses, ${result.errors} errors, ${result.timeouts} timeouts ` +
        `out of ${result.requests.total} requests (2xx: ${ok}). Every request must be accepted; the server said:\n` +
        server.tail(),
    );
  }
  return run;
}

/* ------------------------------------------------------------------------------------------------
 * The group
 * --------------------------------------------------------------------------------------------- */

async function unreachable(opts: ScaleOptions): Promise<string | null> {
  const pg = new Client({ connectionString: opts.pgUrl, connectionTimeoutMillis: 2000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (error) {
    return `PostgreSQL at ${redact(opts.pgUrl)} is not reachable (${(error as Error).message})`;
  } finally {
    await pg.end().catch(() => undefined);
  }
  return redisUnreachable(opts.redisUrl);
}

const fmtKeys = (n: number) => formatNumber(n);

export async function runScale(opts: ScaleOptions): Promise<ScaleResult> {
  const { log } = opts;
  const why = await unreachable(opts);
  if (why) {
    log(`scale: SKIPPED: ${why}. Set BENCH_PG_URL / BENCH_REDIS_URL, or start them, to run this group.`);
    return { rows: [], lines: [`Scale group skipped: ${why}.`], skipped: why };
  }
  created.pgUrl = opts.pgUrl;
  created.redisUrl = opts.redisUrl;
  const elapsed: Record<string, number> = {};
  const started = nowMs();
  const lap = (name: string, since: number) => (elapsed[name] = Math.round((nowMs() - since) / 100) / 10);
  const runId = randomBytes(4).toString('hex');
  const bigLabel = `${fmtKeys(opts.keys)} keys${opts.quick ? ' (quick)' : ''}`;
  const details: ScaleDetails = {
    settings: {
      quick: opts.quick,
      keys: opts.keys,
      runs: opts.runs,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      connections: opts.connections,
      nonces: opts.nonces,
      redisRepeats: opts.redisRepeats,
      fillMemoryStore: opts.fillMemoryStore,
      pgUrl: redact(opts.pgUrl),
      redisUrl: redact(opts.redisUrl),
      smallKeys: SMALL_KEYS,
      realKeys: REAL_KEYS,
      warmKeys: WARM_KEYS,
    },
    seeds: [],
    runs: {},
    warmups: {},
    elapsedSeconds: elapsed,
  };

  const leftovers = await withAdmin(opts.pgUrl, (c) =>
    c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'kpa_bench_%'`),
  );
  if (leftovers.rows.length > 0) {
    log(
      `scale: note: ${leftovers.rows.length} database(s) kpa_bench_* exist already (an interrupted run, or a ` +
        `concurrent one): ${leftovers.rows.map((r) => r.datname).join(', ')}`,
    );
  }

  let signer: ScaleSigner | undefined;
  const scenarios: Scenario[] = [];
  try {
    // 1. Redis bytes per nonce (before the servers put nonces in Redis), while the databases
    //    are seeded: PostgreSQL does not touch Redis, and the figure is a byte count.
    let t = nowMs();
    const real = realKeys(REAL_KEYS);
    const redisTask = (async () => {
      const t0 = nowMs();
      details.redis = await redisMemory(opts);
      lap('redisMemory', t0);
    })();
    const databasesTask = (async () => {
      const small = await createSeededDatabase(opts, `kpa_bench_${runId}_small`, SMALL_KEYS, real);
      log(`scale: database with ${SMALL_KEYS} keys ready in ${(small.report.totalMs / 1000).toFixed(1)} s`);
      const big = await createSeededDatabase(opts, `kpa_bench_${runId}_big`, opts.keys, real);
      lap('databases', t);
      return { small, big };
    })();
    // Both settle before anything is cleaned up.
    const [redisOutcome, databasesOutcome] = await Promise.allSettled([redisTask, databasesTask]);
    if (databasesOutcome.status === 'rejected') throw databasesOutcome.reason;
    if (redisOutcome.status === 'rejected') throw redisOutcome.reason;
    const { small, big } = databasesOutcome.value;
    details.seeds.push(small.report, big.report);
    log(
      `scale: database with ${fmtKeys(opts.keys)} keys and users ready in ${(big.report.totalMs / 1000).toFixed(1)} s ` +
        `(insert ${(big.report.insertMs / 1000).toFixed(1)} s, indexes ${(big.report.indexMs / 1000).toFixed(1)} s, ` +
        `VACUUM ANALYZE ${(big.report.vacuumAnalyzeMs / 1000).toFixed(1)} s; keys table ${big.report.sizes.keysTotal} with indexes)`,
    );

    // 2. Servers: (warm, cold) x (small, big), and the HTTP runs.
    const redisPrefix = `kh${runId.slice(0, 7)}:`;
    created.redisPrefixes.add(redisPrefix);
    const label = (regime: 'warm' | 'cold') =>
      regime === 'warm'
        ? `key cache warm, ${WARM_KEYS} keys in use`
        : `key cache off, ${REAL_KEYS} keys in use, 2 SQL lookups/request`;
    for (const regime of ['warm', 'cold'] as const) {
      const base = `scale: JWT, ${label(regime)}, ${fmtKeys(SMALL_KEYS)} keys`;
      scenarios.push({
        name: base,
        regime,
        keys: SMALL_KEYS,
        database: small.url,
        keysInUse: regime === 'warm' ? WARM_KEYS : REAL_KEYS,
        expected: 0,
      });
      scenarios.push({
        name: `scale: JWT, ${label(regime)}, ${bigLabel}`,
        regime,
        keys: opts.keys,
        database: big.url,
        keysInUse: regime === 'warm' ? WARM_KEYS : REAL_KEYS,
        baseline: base,
        expected: 0,
      });
    }
    t = nowMs();
    for (let i = 0; i < scenarios.length; i += 2) {
      await Promise.all(
        scenarios.slice(i, i + 2).map(async (s) => {
          s.server = await startScaleServer(s.name, s.database, {
            cache: s.regime,
            redisUrl: opts.redisUrl,
            redisPrefix,
          });
        }),
      );
    }
    lap('serversStart', t);
    log(`scale: started ${scenarios.length} servers in ${elapsed.serversStart} s`);

    signer = new ScaleSigner(real);
    for (const s of scenarios) details.runs[s.name] = [];
    t = nowMs();
    for (const s of scenarios) {
      const run = await measure(s, opts.warmupS, opts, signer, 3000);
      details.warmups[s.name] = run;
      s.expected = run.rate;
    }
    log(`scale: warm-up ${opts.warmupS} s each, then ${opts.runs} rounds of ${opts.durationS} s`);
    for (let round = 0; round < opts.runs; round++) {
      // Alternate which size goes first, so neither always follows the other.
      const order =
        round % 2 === 0 ? scenarios : scenarios.map((_, i) => scenarios[i % 2 === 0 ? i + 1 : i - 1]);
      for (const s of order) {
        const baselineOrPair = scenarios.find((x) => x.regime === s.regime && x !== s)!;
        const run = await measure(
          s,
          opts.durationS,
          opts,
          signer,
          Math.max(s.expected, baselineOrPair.expected),
        );
        details.runs[s.name].push(run);
        s.expected = Math.max(s.expected, run.rate);
      }
      log(
        `scale: round ${round + 1}/${opts.runs}: ` +
          scenarios
            .map(
              (s) =>
                `${s.regime}/${s.keys === SMALL_KEYS ? 'small' : 'big'} ${Math.round(details.runs[s.name][round].rate)}`,
            )
            .join(', '),
      );
    }
    lap('http', t);
    await Promise.all(scenarios.map((s) => s.server?.stop()));

    // 3. MemoryReplayStore bytes per nonce, in a child with --expose-gc, on a quiet machine
    //    (it also times a claim refused by a full store).
    t = nowMs();
    details.memory = await memoryStoreReport(opts);
    lap('memoryStore', t);
    log(
      `scale: MemoryReplayStore: ${details.memory.bytesPerNonce.toFixed(1)} bytes/nonce (heap, ${fmtKeys(opts.nonces)} nonces)` +
        (details.memory.capacity
          ? `, ${(details.memory.capacity.heapAtCapacityBytes / 2 ** 20).toFixed(0)} MiB heap at 1M; a claim refused when full takes ${details.memory.capacity.refusedClaimMs.toFixed(1)} ms`
          : ''),
    );
  } finally {
    await signer?.close();
    await Promise.all(scenarios.map((s) => s.server?.stop()));
    const t = nowMs();
    const problems = await removeCreated();
    lap('cleanup', t);
    for (const p of problems) log(`scale: ${p}`);
  }
  elapsed.total = Math.round((nowMs() - started) / 100) / 10;

  const rows = scenarios.map((s) => scenarioRow(s, details));
  return { rows, lines: reportLines(rows, scenarios, details, opts), details };
}

function scenarioRow(s: Scenario, details: ScaleDetails): Row {
  const r = details.runs[s.name];
  const rates = r.map((x) => x.rate);
  const row: Row = {
    section: 'http',
    name: s.name,
    rate: median(rates),
    micros: median(r.map((x) => x.mainThreadUsPerRequest)),
    p99Ms: median(r.map((x) => x.p99Ms)),
    runs: rates,
  };
  const requests = r.reduce((a, x) => a + x.rate * x.durationS, 0);
  const selects = r.reduce((a, x) => a + x.sqlSelects, 0);
  const writes = r.reduce((a, x) => a + x.sqlWrites, 0);
  row.note =
    `p99 ${row.p99Ms!.toFixed(2)} ms, p50 ${median(r.map((x) => x.p50Ms)).toFixed(2)} ms; ` +
    `${(selects / Math.max(requests, 1)).toFixed(3)} SQL SELECTs per request (${selects} in all), ` +
    `${writes} batched lastUsedAt UPDATE(s)`;
  if (s.baseline) {
    const base = details.runs[s.baseline];
    row.baseline = s.baseline;
    row.ratio = median(r.map((x, k) => x.rate / base[k].rate));
    row.cpuRatio = median(r.map((x, k) => base[k].serverCpuUsPerRequest / x.serverCpuUsPerRequest));
    const p99Ratio = median(r.map((x, k) => base[k].p99Ms / x.p99Ms));
    row.target = { label: '≥ 0.90 (req/s and p99)', met: row.ratio >= 0.9 && p99Ratio >= 0.9 };
    row.note += `; p99 ratio (baseline p99 / this p99, median over rounds) ${p99Ratio.toFixed(2)}`;
  }
  const exhausted = r.filter((x) => x.poolExhausted).length;
  if (exhausted > 0) row.note += `; ${exhausted} run(s) ended early: pool used up`;
  return row;
}

function reportLines(rows: Row[], scenarios: Scenario[], d: ScaleDetails, opts: ScaleOptions): string[] {
  const lines: string[] = [];
  const big = d.seeds[1];
  const busy = Object.values(d.runs)
    .flat()
    .map((r) => r.machineBusyCores)
    .filter((v): v is number => v !== null);
  lines.push(
    `Scale: asymmetric JWT (Ed25519) on Fastify, keys and accounts in PostgreSQL, nonces in Redis (RedisReplayStore); ` +
      `autocannon, ${opts.connections} connections, median of ${opts.runs} runs of ${opts.durationS} s per row ` +
      `(after a ${opts.warmupS} s warm-up), rows interleaved round by round (the order of the two sizes alternating). ` +
      `Databases: ${fmtKeys(SMALL_KEYS)} keys, and ${fmtKeys(big.keys)} keys${opts.quick ? ' (--quick: 100,000 instead of 1,000,000)' : ''}; ` +
      `one user per key; the same ${REAL_KEYS} real Ed25519 keys in both (spread evenly through the big table), ` +
      `the others syntactically valid filler. Seeding the big one: ${(big.totalMs / 1000).toFixed(1)} s ` +
      `(INSERT … SELECT generate_series on 2 connections ${(big.insertMs / 1000).toFixed(1)} s, the migration's ${big.indexes} indexes rebuilt ` +
      `${(big.indexMs / 1000).toFixed(1)} s, VACUUM (ANALYZE) ${(big.vacuumAnalyzeMs / 1000).toFixed(1)} s); keys table ` +
      `${big.sizes.keysTable}, ${big.sizes.keysTotal} with indexes, users ${big.sizes.usersTotal}. Plans in the big ` +
      `database: key by keyId: ${big.explain.keyById[1]?.trim().replace(/\s+\(cost.*$/, '')}; account by id: ` +
      `${big.explain.userById[1]?.trim().replace(/\s+\(cost.*$/, '')}.`,
  );
  if (busy.length > 0) {
    lines.push(
      `During the scale runs the machine's ${cpus().length} cores were busy ${median(busy).toFixed(2)} cores (median; ` +
        `server, load generator, PostgreSQL, Redis and everything else).`,
    );
  }
  lines.push('', 'Scale targets:');
  for (const row of rows.filter((r) => r.baseline)) {
    const base = rows.find((r) => r.name === row.baseline)!;
    const runs = d.runs[row.name];
    const baseRuns = d.runs[row.baseline!];
    const rateRatios = runs.map((x, k) => x.rate / baseRuns[k].rate);
    const p99Ratios = runs.map((x, k) => baseRuns[k].p99Ms / x.p99Ms);
    const p99Ratio = median(p99Ratios);
    const s = scenarios.find((x) => x.name === row.name)!;
    const verdict = (v: number) => (v >= 0.9 ? 'met' : `MISSED by ${(0.9 - v).toFixed(2)}`);
    lines.push(
      `- ${s.regime === 'warm' ? 'Key cache warm' : 'Key cache off'}: ${fmtKeys(s.keys)} vs ${fmtKeys(SMALL_KEYS)} keys: ` +
        `${formatNumber(row.rate)} vs ${formatNumber(base.rate)} req/s (medians), ratio ${row.ratio!.toFixed(2)} ` +
        `(median of the per-round ratios; target ≥ 0.90: ${verdict(row.ratio!)}); p99 ${row.p99Ms!.toFixed(2)} vs ` +
        `${base.p99Ms!.toFixed(2)} ms, ratio ${p99Ratio.toFixed(2)} (target ≥ 0.90: ${verdict(p99Ratio)}); ` +
        `server CPU per request ratio ${row.cpuRatio!.toFixed(2)}. Per round: req/s ` +
        `${rateRatios.map((v) => v.toFixed(2)).join(', ')}; p99 ${p99Ratios.map((v) => v.toFixed(2)).join(', ')} ` +
        `(ratios of the medians instead: ${(row.rate / base.rate).toFixed(2)} and ${(base.p99Ms! / row.p99Ms!).toFixed(2)}).`,
    );
  }

  const mem = d.memory;
  const redis = d.redis;
  if (mem && redis) {
    const perSecond = (ttl: number) => MEMORY_STORE_MAX_ENTRIES / ttl;
    d.capacity = {
      memoryStoreJwtRequestsPerSecond: perSecond(JWT_TTL_S),
      memoryStoreSignatureRequestsPerSecond: perSecond(SIGNATURE_TTL_S),
    };
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
    const heapAtMax = mem.capacity
      ? mem.capacity.bytesPerNonceAtCapacity * MEMORY_STORE_MAX_ENTRIES
      : mem.bytesPerNonce * MEMORY_STORE_MAX_ENTRIES;
    lines.push(
      '',
      'Memory per nonce:',
      `- MemoryReplayStore: ${mem.bytesPerNonce.toFixed(1)} bytes per nonce (V8 heap + ArrayBuffers after - before / ` +
        `${fmtKeys(mem.nonces)}, gc() before each reading, nonces of the JWT shape: scope jwt:<uuid>, 22-character nonce)` +
        (mem.capacity
          ? `; ${mem.capacity.bytesPerNonceAtCapacity.toFixed(1)} bytes/nonce when filled to its default 1,000,000 ` +
            `(${mib(mem.capacity.heapAtCapacityBytes - mem.heapBeforeBytes)} for the store).`
          : '.'),
      `- Redis (RedisReplayStore): ${redis.bytesPerNonce.toFixed(1)} bytes per nonce of used_memory (median of ` +
        `${redis.runs.length} x ${fmtKeys(mem.nonces)} nonces: ${redis.runs.map((r) => r.bytesPerNonce.toFixed(1)).join(', ')}; ` +
        `${redis.keyLength}-byte keys, TTL ${JWT_TTL_S} s); MEMORY USAGE says ${redis.memoryUsageMedian} bytes per key. ` +
        `used_memory counts what the allocator (jemalloc) handed out, so it includes size-class rounding, the ` +
        `keyspace and expires hash tables, and whatever else the shared Redis did meanwhile.`,
      '',
      'Capacity that follows:',
      `- MemoryReplayStore's default maxEntries 1,000,000 holds ${formatNumber(perSecond(JWT_TTL_S))} JWT requests/s ` +
        `sustained (nonces live 2 x 20 s + 1 s = ${JWT_TTL_S} s) and ${formatNumber(perSecond(SIGNATURE_TTL_S))} ` +
        `HTTP-signature requests/s (300 s + 20 s = ${SIGNATURE_TTL_S} s); above that, claims fail closed (503). ` +
        `At capacity the store takes about ${mib(heapAtMax)} of memory.` +
        ` Expired nonces are only swept every 30 s (sweepIntervalMs), so just before a sweep the store holds the ` +
        `nonces of the last TTL + 30 s: above ${formatNumber(MEMORY_STORE_MAX_ENTRIES / (JWT_TTL_S + 30))} JWT ` +
        `requests/s (${formatNumber(MEMORY_STORE_MAX_ENTRIES / (SIGNATURE_TTL_S + 30))} for signatures) it fills up ` +
        `between sweeps and claims start sweeping on the request path.` +
        (mem.capacity
          ? ` While full, every new claim sweeps the whole store before it is refused: ` +
            `${mem.capacity.refusedClaimMs.toFixed(1)} ms of main thread per refused request (median of 5).`
          : ''),
      `- Redis, per 1,000 requests/s sustained: ${mib(redis.bytesPerNonce * 1000 * JWT_TTL_S)} for JWTs ` +
        `(${formatNumber(1000 * JWT_TTL_S)} live nonces), ${mib(redis.bytesPerNonce * 1000 * SIGNATURE_TTL_S)} for ` +
        `HTTP signatures (${formatNumber(1000 * SIGNATURE_TTL_S)} live nonces).`,
    );
  }
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
  if (notes.length > 0) lines.push('', 'Scale notes:', ...notes);
  return lines;
}

/* Run as `node scale.js --cleanup` by cleanupScaleSync(): drop what BENCH_SCALE_CLEANUP lists. */
if (require.main === module && process.argv[2] === '--cleanup') {
  const state = JSON.parse(process.env.BENCH_SCALE_CLEANUP ?? '{}') as {
    pgUrl: string;
    redisUrl: string;
    databases: string[];
    redisPrefixes: string[];
  };
  created.pgUrl = state.pgUrl;
  created.redisUrl = state.redisUrl;
  for (const d of state.databases) created.databases.add(d);
  for (const p of state.redisPrefixes) created.redisPrefixes.add(p);
  removeCreated()
    .then((problems) => {
      for (const p of problems) console.error(`scale: ${p}`);
      if (state.databases.length > 0) console.error(`scale: dropped ${state.databases.join(', ')}`);
      process.exit(problems.length > 0 ? 1 : 0);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
