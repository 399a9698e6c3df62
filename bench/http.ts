import autocannon from 'autocannon';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { encodeForwardedCertificate, initCa, issueClientCert } from '../src';
import { TokenClient } from '../src/client';
import { createRedisClient, whenReady } from '../src/redis';
import { ChildServer } from './child-server';
import { median, nowMs, type Row } from './common';
import {
  KEY_ID,
  reusablePool,
  ROLES,
  USERNAME,
  type KeyPair,
  type SignatureKind,
  type SignedHeaders,
} from './fixtures';
import type { ProfileSummary } from './profile';
import type { AdapterName, CpuReport, ServerConfig, ServerKind, ServerRequest } from './server';
import { deletePrefix, redisUnreachable } from './redis-keys';
import type { SignerPool } from './signer-pool';

export interface HttpOptions {
  runs: number;
  durationS: number;
  warmupS: number;
  connections: number;
  profile: boolean;
  profileDir: string;
  tmpDir: string;
  log: (line: string) => void;
  /** The limit's one verification: a message of the size of our signature base and its signature. */
  limit: { key: KeyPair; message: Buffer; signature: Buffer };
  key: KeyPair;
  /** For the rows on the Redis replay store (skipped with a message when it cannot be reached). */
  redisUrl: string;
}

/**
 * What a scenario's requests carry. Signed requests (SignatureKind) are used once each;
 * the others are made once and cycled: the filler (RFC 9421 headers on the bare and limit
 * routes: the same request size), and the credentials that are meant to be sent again,
 * a forwarded client certificate and an access token.
 */
type Credential = SignatureKind | 'filler' | 'certificate' | 'access-token';

interface Scenario {
  name: string;
  adapter: AdapterName;
  kind: ServerKind;
  route: string;
  credential: Credential;
  /** Nonces in Redis (RedisReplayStore) instead of memory. */
  redis: boolean;
  baseline?: string;
  /** Redis rows: the limit with one Redis round trip, reported next to the limit. */
  secondBaseline?: string;
  target?: number;
  server?: ServerHandle;
  /** Best rate seen so far, to size the next pool. */
  expected: number;
}

export interface HttpRun {
  rate: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  /** Server process CPU time (user + system, all threads) per 2xx response. */
  serverCpuUsPerRequest: number;
  /** Main-thread busy time per 2xx response: event-loop utilization x run time / responses. */
  mainThreadUsPerRequest: number;
  serverEventLoopUtilization: number;
  sqlSelects: number;
  sqlWrites: number;
  poolSize: number;
  poolUsed: number;
  poolExhausted: boolean;
  /** CPU used on the machine by processes other than this benchmark, in cores (Linux /proc/stat). */
  otherCpuCores: number | null;
  /** Only for the extra, profiled run (not counted in the results). */
  profile?: ProfileSummary;
}

export interface HttpProfile {
  summary: ProfileSummary;
  /** 2xx responses during the profiled run. */
  requests: number;
  adapter: AdapterName;
  kind: ServerKind;
  credential: Credential;
}

export interface HttpResult {
  rows: Row[];
  runs: Record<string, HttpRun[]>;
  warmups: Record<string, HttpRun>;
  profiles: Record<string, HttpProfile>;
}

const live = new Set<ChildServer<never>>();

/** Kills every benchmark server still running (on exit, or on Ctrl-C). */
export function killAllServers(): void {
  for (const server of live) server.kill();
}

/** A benchmark server in a child process. */
type ServerHandle = ChildServer<ServerRequest>;

function startServer(name: string, config: ServerConfig): Promise<ServerHandle> {
  return ChildServer.start<ServerRequest>(name, 'server.js', { BENCH_SERVER: JSON.stringify(config) }, live);
}

/** Busy and total jiffies of the whole machine, or null off Linux. */
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

/** autocannon's sample interval; a stop() takes effect at the next sample. */
const SAMPLE_MS = 100;

/** The strategy rows of each adapter, in table order: what the request carries, and the label. */
const STRATEGIES: { credential: Exclude<Credential, 'filler'>; redis?: true; label: string }[] = [
  { credential: 'rfc9421', label: 'RFC 9421 (Ed25519, SQLite keys, memory replay store)' },
  { credential: 'cavage', label: 'Cavage (Ed25519, SQLite keys, memory replay store)' },
  { credential: 'jwt', label: 'asymmetric JWT (Ed25519, SQLite keys, memory replay store)' },
  {
    credential: 'certificate',
    label:
      'forwarded certificate (nginx header, fingerprint mapping, SQLite; no signature verified per request)',
  },
  { credential: 'access-token', label: 'access token (Bearer, Ed25519 server key, SQLite keys)' },
  { credential: 'rfc9421', redis: true, label: 'RFC 9421 (Ed25519, SQLite keys, Redis replay store)' },
  { credential: 'jwt', redis: true, label: 'asymmetric JWT (Ed25519, SQLite keys, Redis replay store)' },
];

/** The limit plus one `SET key 1 PX ttl NX` through ioredis (the client options of createRedisClient). */
const REDIS_LIMIT =
  'fastify: bare route + 1 Ed25519 crypto.verify + 1 Redis SET NX (the limit with a shared replay store)';

/**
 * Every strategy on both adapters, each against its adapter's limit. The target (≥ 0.85 of
 * the limit) is the issue's, for Fastify; Express rows show the ratio without a target. The
 * Redis replay store rows are Fastify only (the store costs the same on both), and left out
 * when Redis cannot be reached.
 */
function scenarios(withRedis: boolean): Scenario[] {
  const list: Scenario[] = [];
  for (const adapter of ['fastify', 'express'] as const) {
    const bare = `${adapter}: bare route`;
    const limit = `${adapter}: bare route + 1 Ed25519 crypto.verify (the limit)`;
    const row = { adapter, redis: false, expected: 0 };
    list.push({ ...row, name: bare, kind: 'bare', route: '/bare', credential: 'filler' });
    list.push({ ...row, name: limit, kind: 'limit', route: '/limit', credential: 'filler', baseline: bare });
    const withRedisHere = withRedis && adapter === 'fastify';
    if (withRedisHere) {
      // What a shared replay store cannot avoid: one round trip per request, on top of the verify.
      list.push({
        ...row,
        name: REDIS_LIMIT,
        kind: 'limit',
        route: '/limit',
        credential: 'filler',
        redis: true,
        baseline: limit,
      });
    }
    for (const { credential, redis, label } of STRATEGIES) {
      if (redis && !withRedisHere) continue;
      list.push({
        ...row,
        name: `${adapter}: GET /probe/whoami, ${label}`,
        kind: 'auth',
        route: '/probe/whoami',
        credential,
        redis: redis === true,
        baseline: limit,
        secondBaseline: redis ? REDIS_LIMIT : undefined,
        target: adapter === 'fastify' ? 0.85 : undefined,
      });
    }
  }
  return list;
}

/** Short name of a scenario, for the round log and the profile files. */
function tag(s: Scenario): string {
  return `${s.kind === 'auth' ? s.credential : s.kind}${s.redis ? '-redis' : ''}`;
}

/** Rough signing speed per kind on all worker threads (signed requests per ms), refined as pools are made. */
const signingRate: Record<string, number> = { filler: 20, rfc9421: 20, cavage: 20, jwt: 8 };

/** What some auth servers add to the bench user and key: its certificate, the token server key, Redis. */
interface AuthSetup {
  certificatePem: string;
  serverKeyPem: string;
  redis?: { url: string; prefix: string };
}

function serverConfig(s: Scenario, options: HttpOptions, setup: AuthSetup, index: number): ServerConfig {
  const config: ServerConfig = { adapter: s.adapter, kind: s.kind };
  if (s.kind === 'auth') {
    Object.assign(config, {
      sqlitePath: join(options.tmpDir, `keys-${index}.sqlite`),
      username: USERNAME,
      roles: ROLES,
      keyId: KEY_ID,
      publicPem: options.key.publicPem,
    });
    if (s.credential === 'certificate') config.certificatePem = setup.certificatePem;
    if (s.credential === 'access-token') config.serverKeyPem = setup.serverKeyPem;
    if (s.redis) config.redis = setup.redis;
  }
  if (s.kind === 'limit') {
    if (s.redis) config.redis = setup.redis;
    config.limit = {
      publicPem: options.limit.key.publicPem,
      messageB64: options.limit.message.toString('base64'),
      signatureB64: options.limit.signature.toString('base64'),
    };
  }
  return config;
}

/**
 * A CA (root + intermediate, in `dir`) and a client certificate for the bench user, issued
 * as test/support/certificates.ts does (P-256, clientAuth, 12 h), and what an nginx proxy
 * that verified it forwards: `X-SSL-Client-Escaped-Cert` ($ssl_client_escaped_cert) and
 * `X-SSL-Client-Verify: SUCCESS`.
 */
async function benchCertificate(dir: string): Promise<{ certPem: string; headers: Record<string, string> }> {
  const caDir = join(dir, 'bench-ca');
  await initCa(caDir, { cn: 'Bench' });
  const issued = await issueClientCert(caDir, USERNAME, { pkcs12: false });
  const [name, value] = encodeForwardedCertificate('nginx', issued.certificate);
  return { certPem: issued.certPem, headers: { [name]: value, 'x-ssl-client-verify': 'SUCCESS' } };
}

/** The requests cycled through a scenario whose credential may be sent again. */
async function reusableRequests(
  s: Scenario,
  options: HttpOptions,
  signer: SignerPool,
  certificateHeaders: Record<string, string>,
): Promise<SignedHeaders[] | undefined> {
  switch (s.credential) {
    case 'filler':
      return signer.sign('rfc9421', 2048, origin(s), options.key, { basePath: s.route });
    case 'certificate':
      return reusablePool(2048, certificateHeaders, s.route);
    case 'access-token': {
      // Logged in once, as a client would: POST /auth/challenge, sign it, POST /auth/token.
      const client = new TokenClient({
        baseUrl: origin(s),
        keyId: KEY_ID,
        privateKey: options.key.privateKey,
      });
      const { accessToken, tokenType } = await client.login();
      return reusablePool(2048, { authorization: `${tokenType} ${accessToken}` }, s.route);
    }
    default:
      return undefined;
  }
}

/** Deletes the nonces the Redis rows left (they would expire within the signature window anyway). */
async function removeRedisKeys(url: string, prefix: string, log: (line: string) => void): Promise<void> {
  const redis = createRedisClient(url);
  try {
    await whenReady(redis, 3000);
    log(`http: deleted ${await deletePrefix(redis, prefix)} Redis keys under ${prefix}`);
  } catch (error) {
    log(
      `http: could not delete the Redis keys ${prefix}* (${(error as Error).message}); they expire by themselves`,
    );
  } finally {
    redis.disconnect();
  }
}

export async function runHttp(options: HttpOptions, signer: SignerPool): Promise<HttpResult> {
  const { log } = options;
  const redisProblem = await redisUnreachable(options.redisUrl);
  if (redisProblem) {
    log(
      `http: SKIPPED the Redis replay store rows: ${redisProblem}. Set BENCH_REDIS_URL, or start it, to run them.`,
    );
  }
  const list = scenarios(redisProblem === null);
  const runs: Record<string, HttpRun[]> = {};
  const warmups: Record<string, HttpRun> = {};
  const profiles: Record<string, HttpProfile> = {};
  const reusable = new Map<Scenario, SignedHeaders[]>();
  const certificate = await benchCertificate(options.tmpDir);
  const setup: AuthSetup = {
    certificatePem: certificate.certPem,
    serverKeyPem: generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    // Unique per run, so that exactly this run's nonces are deleted at the end.
    redis: redisProblem
      ? undefined
      : { url: options.redisUrl, prefix: `kb${randomBytes(4).toString('hex')}:` },
  };
  try {
    // Start the servers two at a time (startup is CPU-bound; this machine may have two cores).
    const configs = list.map((s, i) => serverConfig(s, options, setup, i));
    const started = nowMs();
    for (let i = 0; i < list.length; i += 2) {
      await Promise.all(
        list.slice(i, i + 2).map(async (s, j) => {
          s.server = await startServer(s.name, configs[i + j]);
        }),
      );
    }
    log(`http: started ${list.length} servers in ${Math.round(nowMs() - started)} ms`);
    for (const s of list) {
      const pool = await reusableRequests(s, options, signer, certificate.headers);
      if (pool) reusable.set(s, pool);
      runs[s.name] = [];
    }

    log(`http: warm-up ${options.warmupS} s each, then ${options.runs} rounds of ${options.durationS} s`);
    for (const s of list) {
      const run = await measure(s, options.warmupS, options, signer, reusable.get(s), 8_000);
      warmups[s.name] = run;
      s.expected = run.rate;
    }
    for (let round = 0; round < options.runs; round++) {
      for (const s of list) {
        // A strategy's pool is sized from its own best rate, or from the limit just measured if higher.
        const limit = list.find((x) => x.adapter === s.adapter && x.kind === 'limit');
        const limitRate = limit ? (runs[limit.name][round]?.rate ?? 0) : 0;
        const expected = Math.max(s.expected, s.kind === 'auth' ? limitRate : 0);
        const run = await measure(s, options.durationS, options, signer, reusable.get(s), expected);
        runs[s.name].push(run);
        s.expected = Math.max(s.expected, run.rate);
      }
      log(
        `http: round ${round + 1}/${options.runs}: ` +
          list.map((s) => `${short(s)} ${Math.round(runs[s.name][round].rate)}`).join(', '),
      );
    }
    if (options.profile) {
      for (const s of list.filter((x) => x.kind !== 'bare')) {
        const name = `http-${s.adapter}-${tag(s)}`;
        const run = await measure(s, options.durationS, options, signer, reusable.get(s), s.expected, {
          dir: options.profileDir,
          name,
        });
        profiles[s.name] = {
          summary: run.profile!,
          requests: Math.round(run.rate * run.durationS),
          adapter: s.adapter,
          kind: s.kind,
          credential: s.credential,
        };
        log(`http: profiled ${s.name} → ${run.profile!.file}`);
      }
    }
  } finally {
    await Promise.all(list.map((s) => s.server?.stop()));
    if (setup.redis) await removeRedisKeys(setup.redis.url, setup.redis.prefix, log);
  }

  const rows: Row[] = list.map((s) => {
    const r = runs[s.name];
    const rates = r.map((x) => x.rate);
    const row: Row = {
      section: 'http',
      name: s.name,
      rate: median(rates),
      micros: median(r.map((x) => x.mainThreadUsPerRequest)),
      p99Ms: median(r.map((x) => x.p99Ms)),
      runs: rates,
    };
    if (s.baseline) {
      const base = runs[s.baseline];
      row.baseline = s.baseline;
      row.ratio = median(r.map((x, k) => x.rate / base[k].rate));
      row.cpuRatio = median(r.map((x, k) => base[k].serverCpuUsPerRequest / x.serverCpuUsPerRequest));
    }
    if (s.secondBaseline && runs[s.secondBaseline]) {
      const base = runs[s.secondBaseline];
      row.secondary = {
        baseline: s.secondBaseline,
        ratio: median(r.map((x, k) => x.rate / base[k].rate)),
      };
    }
    const selects = r.reduce((a, x) => a + x.sqlSelects, 0);
    const writes = r.reduce((a, x) => a + x.sqlWrites, 0);
    if (s.kind === 'auth') {
      row.note =
        `${selects} SQL SELECT(s) during the measured runs (key cache misses; the cache TTL is 60 s), ` +
        `${writes} batched lastUsedAt write(s)`;
    }
    const exhausted = r.filter((x) => x.poolExhausted).length;
    if (exhausted > 0) row.note = `${row.note ?? ''}; ${exhausted} run(s) ended early: pool used up`;
    if (s.target !== undefined && row.ratio !== undefined) {
      row.target = { label: `≥ ${s.target}`, met: row.ratio >= s.target };
    }
    return row;
  });
  return { rows, runs, warmups, profiles };
}

function origin(s: Scenario): string {
  return `http://127.0.0.1:${s.server!.port}`;
}

function short(s: Scenario): string {
  return `${s.adapter[0]}:${tag(s)}`;
}

/** One autocannon run against a scenario's server; throws on any non-2xx response or error. */
async function measure(
  s: Scenario,
  durationS: number,
  options: HttpOptions,
  signer: SignerPool,
  reusable: SignedHeaders[] | undefined,
  expectedRate: number,
  profile?: { dir: string; name: string },
): Promise<HttpRun> {
  const server = s.server!;
  let pool: SignedHeaders[];
  let cycle = false;
  if (reusable) {
    pool = reusable;
    cycle = true;
  } else {
    // Enough fresh requests for the whole run (+50 %, + the reserve below); else the run stops early.
    const count =
      Math.ceil(Math.max(expectedRate, 1000) * (durationS * 1.5 + (3 * SAMPLE_MS) / 1000)) +
      50 * options.connections;
    const kind = s.credential as SignatureKind;
    const estimateMs = count / signingRate[kind];
    // JWT `time` must be within ±20 s when used: aim it at the middle of the run.
    const jwtTime =
      kind === 'jwt' ? Math.round((Date.now() + estimateMs + (durationS * 1000) / 2) / 1000) : undefined;
    const started = nowMs();
    pool = await signer.sign(kind, count, origin(s), options.key, { basePath: s.route, jwtTime });
    signingRate[kind] = count / Math.max(nowMs() - started, 1);
  }

  let next = 0;
  let exhausted = false;
  let overrun = false;
  // autocannon stops at its next sample tick (every SAMPLE_MS): keep that many requests in reserve.
  const margin = Math.ceil((Math.max(expectedRate, 1000) * 3 * SAMPLE_MS) / 1000) + 20 * options.connections;
  let instance: autocannon.Instance | undefined;
  const request: autocannon.Request = {
    method: 'GET',
    setupRequest: (req) => {
      let signed: SignedHeaders;
      if (cycle) {
        signed = pool[next++ % pool.length];
      } else {
        if (!exhausted && next >= pool.length - margin) {
          exhausted = true;
          instance?.stop();
        }
        if (next >= pool.length) overrun = true; // sends a replay: refused, and reported as a pool overrun
        signed = pool[Math.min(next++, pool.length - 1)];
      }
      return { ...req, path: signed.path, headers: signed.headers };
    },
  };

  if (profile) await server.request({ type: 'profile-start' });
  await server.request({ type: 'cpu-start' });
  const ticks0 = machineTicks();
  const self0 = process.cpuUsage();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: origin(s),
        connections: options.connections,
        pipelining: 1,
        duration: durationS,
        requests: [request],
        timeout: 10,
        sampleInt: SAMPLE_MS,
      },
      (error: unknown, res: autocannon.Result) => (error ? reject(error) : resolve(res)),
    );
  });
  const self = process.cpuUsage(self0);
  const ticks1 = machineTicks();
  const cpu = await server.request<CpuReport>({ type: 'cpu-stop' });
  const profileSummary = profile
    ? await server.request<ProfileSummary>({ type: 'profile-stop', ...profile }, 60_000)
    : undefined;

  const elapsedS = (result.finish.getTime() - result.start.getTime()) / 1000;
  const ok = result['2xx'];
  let otherCpuCores: number | null = null;
  if (ticks0 && ticks1 && ticks1.total > ticks0.total) {
    const cores = cpus().length;
    const machineBusy = ((ticks1.busy - ticks0.busy) / (ticks1.total - ticks0.total)) * cores;
    const ours = (cpu.userUs + cpu.systemUs + self.user + self.system) / 1e6 / elapsedS;
    otherCpuCores = Math.max(0, Math.round((machineBusy - ours) * 100) / 100);
  }
  const run: HttpRun = {
    rate: ok / elapsedS,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: elapsedS,
    serverCpuUsPerRequest: (cpu.userUs + cpu.systemUs) / Math.max(ok, 1),
    mainThreadUsPerRequest: (cpu.elu * cpu.windowUs) / Math.max(ok, 1),
    serverEventLoopUtilization: Math.round(cpu.elu * 1000) / 1000,
    sqlSelects: cpu.sqlSelects,
    sqlWrites: cpu.sqlWrites,
    poolSize: pool.length,
    poolUsed: next,
    poolExhausted: exhausted,
    otherCpuCores,
    ...(profileSummary ? { profile: profileSummary } : {}),
  };
  if (overrun) {
    throw new Error(
      `${s.name}: the pool of ${pool.length} pre-signed requests ran out before autocannon stopped; ` +
        `the last ${run.non2xx} requests were replays. This is a harness bug: report it.`,
    );
  }
  if (run.non2xx > 0 || run.errors > 0 || run.timeouts > 0 || ok === 0) {
    throw new Error(
      `${s.name}: ${run.non2xx} non-2xx responses, ${run.errors} errors, ${run.timeouts} timeouts ` +
        `out of ${run.requests} requests (2xx: ${ok}). Every request must be accepted; the server said:\n` +
        server.tail(),
    );
  }
  return run;
}
