import { sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { machine, markdownTable, median, nowMs, type Row } from './common';
import { ed25519Key } from './fixtures';
import { runHttp, killAllServers, type HttpResult } from './http';
import { FULL_STORE_ROW, runMicro, type MicroResult } from './micro';
import { formatProfile, formatProfileDiff } from './profile';
import { cleanupScaleSync, runScale, type ScaleResult } from './scale';
import { SignerPool } from './signer-pool';

/*
 * `npm run bench [-- --quick] [-- --only=micro|http|scale] [-- --profile]`
 *
 * Compiled by `tsc -p bench/tsconfig.json` into bench/.build (with its own copy
 * of src/), run from there, and bench/.build is removed at the end (pass
 * --keep-build to keep it). See bench/README.md.
 */

interface Args {
  quick: boolean;
  only: 'micro' | 'http' | 'scale' | 'all';
  profile: boolean;
  keepBuild: boolean;
  connections: number;
  runs?: number;
  duration?: number;
  scaleKeys?: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: 'all', profile: false, keepBuild: false, connections: 4 };
  for (const arg of argv) {
    const [name, value] = arg.split('=', 2);
    switch (name) {
      case '--quick':
        args.quick = true;
        break;
      case '--only':
        if (value !== 'micro' && value !== 'http' && value !== 'scale') {
          throw new Error('--only=micro, --only=http or --only=scale');
        }
        args.only = value;
        break;
      case '--profile':
        args.profile = true;
        break;
      case '--keep-build':
        args.keepBuild = true;
        break;
      case '--connections':
        args.connections = Number(value);
        break;
      case '--runs':
        args.runs = Number(value);
        break;
      case '--duration':
        args.duration = Number(value);
        break;
      case '--scale-keys':
        args.scaleKeys = Number(value);
        break;
      case '--help':
        console.log(
          'npm run bench -- [--quick] [--only=micro|http|scale] [--profile] [--connections=4] [--runs=N] [--duration=S] [--scale-keys=N] [--keep-build]\n' +
            'scale group: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test); scale group and the HTTP rows on the Redis replay store: BENCH_REDIS_URL (default redis://127.0.0.1:6379)',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${arg} (try --help)`);
    }
  }
  return args;
}

const BENCH_DIR = resolve(__dirname, '..', '..');
const BUILD_DIR = resolve(__dirname, '..');

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = nowMs();
  const stamp = new Date()
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const host = machine();
  const micro = {
    runs: args.runs ?? (args.quick ? 5 : 7),
    runMs: args.quick ? 150 : 400,
  };
  // 16 HTTP rows (every strategy on both adapters, two on the Redis replay store): runs a
  // little shorter than with 7, to keep --quick near 4 min and the full run under 15.
  const http = {
    runs: args.runs ?? (args.quick ? 3 : 5),
    durationS: args.duration ?? (args.quick ? 1.5 : 5),
    warmupS: args.quick ? 1 : 3,
    connections: args.connections,
  };
  // The HTTP rows on the Redis replay store and the scale group.
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const scale = {
    keys: args.scaleKeys ?? (args.quick ? 100_000 : 1_000_000),
    // Short runs, many rounds: the ratio of two neighbouring runs is what survives a busy machine.
    runs: args.runs ?? (args.quick ? 4 : 8),
    durationS: args.duration ?? (args.quick ? 1.5 : 3),
    warmupS: args.quick ? 1 : 2,
    connections: args.connections,
    nonces: 200_000,
    redisRepeats: args.quick ? 1 : 3,
    fillMemoryStore: true,
    pgUrl: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    redisUrl,
  };
  const log = (line: string) =>
    console.log(`[${((nowMs() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
  log(
    `${command} on ${host.cpu}, ${host.cores} cores, Node ${host.node} (load average ${host.loadavgAtStart.join(' ')})`,
  );

  const profileDir = join(BENCH_DIR, 'results', `profiles-${stamp}`);
  const tmp = mkdtempSync(join(tmpdir(), 'keypair-auth-bench-'));
  tmpDir = tmp;
  const signer = new SignerPool();
  let microResult: MicroResult | undefined;
  let httpResult: HttpResult | undefined;
  let scaleResult: ScaleResult | undefined;
  try {
    if (args.only === 'all' || args.only === 'micro') {
      microResult = await runMicro({ ...micro, profile: args.profile, profileDir, log }, signer);
    }
    if (args.only === 'all' || args.only === 'http') {
      const key = ed25519Key();
      const limitKey = ed25519Key();
      // The limit verifies a message the size of a 6-component signature base.
      const message = Buffer.from(
        '"@method": GET\n"@authority": 127.0.0.1:40000\n"@path": /probe/whoami\n' +
          '"@query": ?limit=10&cursor=AAAAAAAAAAA\n"content-type": application/json\n' +
          '"accept": application/json\n' +
          '"@signature-params": ("@method" "@authority" "@path" "@query" "content-type" "accept");' +
          'created=1700000000;keyid="bench-ed25519";nonce="AAAAAAAAAAAAAAAAAAAAAA"',
      );
      httpResult = await runHttp(
        {
          ...http,
          profile: args.profile,
          profileDir,
          tmpDir: tmp,
          log,
          key,
          limit: { key: limitKey, message, signature: sign(null, message, limitKey.privateKey) },
          redisUrl,
        },
        signer,
      );
    }
    if (args.only === 'all' || args.only === 'scale') {
      scaleResult = await runScale({ ...scale, quick: args.quick, log });
    }
  } finally {
    await signer.close();
    rmSync(tmp, { recursive: true, force: true });
  }

  const rows: Row[] = [
    ...(microResult?.rows ?? []),
    ...(httpResult?.rows ?? []),
    ...(scaleResult?.rows ?? []),
  ];
  const table = markdownTable(rows);
  const others = httpResult
    ? Object.values(httpResult.runs)
        .flat()
        .map((r) => r.otherCpuCores)
        .filter((v): v is number => v !== null)
    : [];
  const elapsed = Math.round((nowMs() - started) / 1000);
  // Scale rows list their notes with the scale lines.
  const notes = rows
    .filter((r) => r.note && !r.name.startsWith('scale:'))
    .map((r) => `- ${r.name}: ${r.note}`);
  const targets = targetLines(rows);
  const report = [
    `Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, Node ${host.node} (${host.platform}); load average at start ${host.loadavgAtStart.join(' ')}`,
    `Command: \`${command}\` (${elapsed} s)`,
    ...(microResult
      ? [
          `Micro: median of ${micro.runs} runs of ${micro.runMs} ms per row, in process, one at a time, rows interleaved round by round.`,
        ]
      : []),
    ...(httpResult
      ? [
          `HTTP: autocannon, ${http.connections} connections, median of ${http.runs} runs of ${http.durationS} s per row (after a ${http.warmupS} s warm-up), each server in its own child process, rows interleaved round by round.`,
        ]
      : []),
    '',
    table,
    '',
    "¹ µs/op: micro rows 1e6 / rate; HTTP rows the server main thread's busy time per 2xx response (event-loop utilization x time / responses), which bounds a Node server's throughput.",
    '² ratio: median over the rounds of rate / baseline rate, both measured in the same round.',
    '³ CPU ratio: likewise with CPU time per op, all threads (baseline / this row): for HTTP rows the server process (GC helpers and the libuv pool included), for micro rows this process.',
    ...(others.length > 0
      ? [
          `Other processes on the machine used a median of ${median(others).toFixed(2)} cores (max ${Math.max(...others).toFixed(2)}) during the HTTP runs.`,
        ]
      : []),
    ...(targets.length > 0 ? ['', 'Targets:', ...targets] : []),
    ...(notes.length > 0 ? ['', 'Notes:', ...notes] : []),
    ...(scaleResult ? ['', ...scaleResult.lines] : []),
  ].join('\n');
  console.log(`\n${report}`);

  const profileText: string[] = [];
  const microProfiles = microResult?.profiles ?? {};
  for (const [name, p] of Object.entries(microProfiles)) {
    profileText.push(formatProfile(`micro: ${name}`, p.summary, p.ops).replaceAll('µs/request', 'µs/op'));
  }
  for (const [name, p] of Object.entries(microProfiles)) {
    const vs = p.vs ? microProfiles[p.vs] : undefined;
    if (!vs) continue;
    profileText.push(
      formatProfileDiff(
        `micro: ${name} minus ${p.vs}`,
        { summary: p.summary, requests: p.ops },
        { summary: vs.summary, requests: vs.ops },
        'the baseline',
      ).replaceAll('µs/request', 'µs/op'),
    );
  }
  const httpProfiles = httpResult?.profiles ?? {};
  for (const [name, p] of Object.entries(httpProfiles)) {
    profileText.push(formatProfile(name, p.summary, p.requests));
  }
  for (const [name, p] of Object.entries(httpProfiles)) {
    if (p.kind !== 'auth') continue;
    const limit = Object.values(httpProfiles).find((x) => x.adapter === p.adapter && x.kind === 'limit');
    if (limit) profileText.push(formatProfileDiff(`${name} minus the limit`, p, limit, 'the limit'));
  }
  if (profileText.length > 0) {
    console.log('\n## CPU profiles (self time)\n');
    console.log(profileText.join('\n\n'));
  }

  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  const file = join(BENCH_DIR, 'results', `${stamp}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        command,
        startedAt: new Date(Date.now() - elapsed * 1000).toISOString(),
        elapsedSeconds: elapsed,
        machine: host,
        settings: { micro, http, scale: scaleResult?.details?.settings },
        table,
        report,
        rows,
        micro: microResult && { results: microResult.results },
        http: httpResult && { runs: httpResult.runs, warmups: httpResult.warmups },
        scale: scaleResult && { skipped: scaleResult.skipped, ...scaleResult.details },
        profiles: {
          micro: microResult?.profiles,
          http: httpResult?.profiles,
          text: profileText.join('\n\n'),
        },
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nRaw results: ${relative(process.cwd(), file)}`);
  return 0;
}

/** One line per target of the brief: met or missed, and by how much. */
function targetLines(rows: readonly Row[]): string[] {
  const find = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  const lines: string[] = [];
  const verify = find('verify: Ed25519');
  const ours = find('rfc9421: ours, no-op');
  const theirs = find('rfc9421: http-message-signatures, no-op');
  if (verify && ours && theirs) {
    // Normalised to the brief's machine state (Ed25519 verify = 8,300/s): the same share of one verify.
    const scaled = (ours.micros / verify.micros) * (1e6 / 8300);
    lines.push(
      `- RFC 9421 overhead without crypto: ${ours.micros.toFixed(1)} µs/request (target ≤ 10 µs: ` +
        `${ours.micros <= 10 ? 'met' : `MISSED by ${(ours.micros - 10).toFixed(1)} µs`}). That is ` +
        `${((ours.micros / verify.micros) * 100).toFixed(1)} % of one Ed25519 verify in this run, ` +
        `${scaled.toFixed(1)} µs when a verify takes ${(1e6 / 8300).toFixed(0)} µs (8,300/s) ` +
        `(${scaled <= 10 ? 'met' : 'missed'} when normalised). http-message-signatures: ` +
        `${theirs.micros.toFixed(1)} µs, ${ours.ratio!.toFixed(1)}x ours (target 4-5x: ${ours.ratio! >= 4 ? 'met' : 'MISSED'}).`,
    );
  }
  // Scale rows (their baseline is the 100-key row, not the limit) have their own lines (scale.ts).
  for (const row of rows.filter((r) => r.section === 'http' && r.target && !r.name.startsWith('scale:'))) {
    const limit = rows.find((r) => r.name === row.baseline);
    const extra = limit ? row.micros - limit.micros : NaN;
    lines.push(
      `- ${row.name}: ${row.ratio!.toFixed(2)} of the limit (target ≥ 0.85: ` +
        `${row.ratio! >= 0.85 ? 'met' : `MISSED by ${(0.85 - row.ratio!).toFixed(2)}`}); main thread ` +
        `${row.micros.toFixed(0)} µs/request vs ${limit?.micros.toFixed(0)} for the limit (${extra >= 0 ? '+' : ''}${extra.toFixed(0)} µs); ` +
        `CPU ratio, all threads, ${row.cpuRatio?.toFixed(2)}` +
        (row.secondary
          ? `; ${row.secondary.ratio.toFixed(2)} of the limit with one Redis round trip (${row.secondary.baseline}).`
          : '.'),
    );
  }
  const full = rows.find((r) => r.name === FULL_STORE_ROW);
  if (full) {
    lines.push(
      `- A claim refused by a full MemoryReplayStore: ${full.micros.toFixed(1)} µs of main thread (target ≤ 50 µs: ` +
        `${full.micros <= 50 ? 'met' : `MISSED by ${(full.micros - 50).toFixed(1)} µs`}).`,
    );
  }
  const jwt = rows.find((r) => r.name.startsWith('jwt: ours'));
  if (jwt && jwt.ratio !== undefined) {
    lines.push(
      `- Asymmetric JWT authenticator: ${jwt.ratio.toFixed(2)} of jose jwtVerify alone (target ≥ 0.95: ` +
        `${jwt.ratio >= 0.95 ? 'met' : `MISSED by ${(0.95 - jwt.ratio).toFixed(2)}`}); CPU ratio ${jwt.cpuRatio?.toFixed(2)}.`,
    );
  }
  return lines;
}

let tmpDir: string | undefined;

function cleanup(keep: boolean): void {
  killAllServers();
  cleanupScaleSync();
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  if (!keep) rmSync(BUILD_DIR, { recursive: true, force: true });
}

const keep = process.argv.includes('--keep-build');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup(keep);
    process.exit(130);
  });
}
// An exception thrown inside autocannon's or a server's callbacks: stop everything, loudly.
process.on('uncaughtException', (error) => {
  console.error(`\nBENCHMARK FAILED: ${error?.stack ?? String(error)}`);
  cleanup(keep);
  process.exit(1);
});
main()
  .then((code) => {
    cleanup(keep);
    process.exit(code);
  })
  .catch((error: unknown) => {
    console.error(`\nBENCHMARK FAILED: ${(error as Error)?.stack ?? String(error)}`);
    cleanup(keep);
    process.exit(1);
  });
