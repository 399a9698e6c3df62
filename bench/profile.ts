import { mkdirSync, writeFileSync } from 'node:fs';
import { Session, type Profiler } from 'node:inspector';
import { join, sep } from 'node:path';

/*
 * In-process V8 CPU profiles (the profiler `node --cpu-prof` uses), started and
 * stopped around exactly the measured window. Each profile is written as a
 * .cpuprofile (open it in Chrome DevTools > Performance, or speedscope) and
 * summarised: top functions and top packages by self time.
 */

let session: Session | undefined;

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session!.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T)));
  });
}

export async function startProfile(intervalUs = 250): Promise<void> {
  if (!session) {
    session = new Session();
    session.connect();
  }
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: intervalUs });
  await post('Profiler.start');
}

export async function stopProfile(): Promise<Profiler.Profile> {
  const { profile } = await post<{ profile: Profiler.Profile }>('Profiler.stop');
  await post('Profiler.disable');
  return profile;
}

export interface ProfileEntry {
  name: string;
  selfPct: number;
  /** Self time in µs over the whole profile. */
  selfUs: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled time (µs): busy (on the main thread) and idle (waiting for I/O). */
  busyUs: number;
  idleUs: number;
  /** Share of the sampled time in which the thread was idle; the percentages below are of the busy time. */
  idlePct: number;
  topFunctions: ProfileEntry[];
  byCategory: ProfileEntry[];
  /** Every category and function with its self time (µs), for per-request arithmetic and diffs. */
  allCategoriesUs: Record<string, number>;
  allFunctionsUs: Record<string, number>;
}

const OURS = `${sep}bench${sep}.build${sep}src${sep}`;
const HARNESS = `${sep}bench${sep}.build${sep}bench${sep}`;
/** Native functions without a script, as V8 names them, that belong to a known area. */
const NATIVE: Record<string, string> = {
  run: 'node: crypto (native sign/verify job)',
  SignJob: 'node: crypto (native sign/verify job)',
  writev: 'node: http/net/streams',
  writeUtf8String: 'node: http/net/streams',
  writeBuffer: 'node: http/net/streams',
  writeLatin1String: 'node: http/net/streams',
};

function category(url: string, fn: string): string {
  if (url === '') {
    if (fn === '(garbage collector)') return 'V8: garbage collector (main thread)';
    if (fn === '(program)') return 'V8: (program), native not attributed';
    if (fn === '(idle)') return '(idle)';
    return NATIVE[fn] ?? 'V8/native builtins (JSON, RegExp, Buffer…)';
  }
  const path = url.replace(/^file:\/\//, '');
  if (path.startsWith('node:internal/crypto') || path === 'node:crypto') return 'node: crypto (JS)';
  if (/^node:(_http|_stream|net|stream|internal\/(http|streams|stream_base|net|js_stream))/.test(path))
    return 'node: http/net/streams';
  if (path.startsWith('node:')) return 'node: other core';
  const ours = path.indexOf(OURS);
  if (ours !== -1) {
    const rest = path.slice(ours + OURS.length).split(sep);
    return `ours: src/${rest.length > 1 ? rest[0] : rest[0].replace(/\.js$/, '')}`;
  }
  if (path.includes(HARNESS)) return 'bench harness';
  const nm = path.lastIndexOf(`${sep}node_modules${sep}`);
  if (nm !== -1) {
    const parts = path.slice(nm + 14).split(sep);
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  return 'other';
}

function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const ours = path.indexOf(OURS);
  if (ours !== -1) return 'src/' + path.slice(ours + OURS.length).replace(/\.js$/, '.ts');
  const harness = path.indexOf(HARNESS);
  if (harness !== -1) return 'bench/' + path.slice(harness + HARNESS.length).replace(/\.js$/, '.ts');
  const nm = path.lastIndexOf(`${sep}node_modules${sep}`);
  if (nm !== -1) return path.slice(nm + 14);
  return path;
}

function top(map: Map<string, number>, total: number, n: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, selfPct: Math.round((us / total) * 1000) / 10, selfUs: Math.round(us) }));
}

/** Writes the profile to dir/name.cpuprofile and summarises self time per function and per package. */
export function profileSummary(profile: Profiler.Profile, dir: string, name: string): ProfileSummary {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // timeDeltas[i] is the time from sample i-1 to sample i: charge it to sample i-1's node.
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const selfUs = new Map<number, number>();
  for (let i = 0; i + 1 < samples.length; i++) {
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, deltas[i + 1] ?? 0));
  }
  const functions = new Map<string, number>();
  const categories = new Map<string, number>();
  let idle = 0;
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const cat = category(url, functionName);
    if (cat === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const label = url
      ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`
      : `${functionName || '(anonymous)'} (native)`;
    functions.set(label, (functions.get(label) ?? 0) + us);
    categories.set(cat, (categories.get(cat) ?? 0) + us);
  }
  const total = Math.max(busy, 1);
  return {
    file,
    busyUs: Math.round(busy),
    idleUs: Math.round(idle),
    idlePct: Math.round((idle / Math.max(idle + busy, 1)) * 1000) / 10,
    topFunctions: top(functions, total, 15),
    byCategory: top(categories, total, 14),
    allCategoriesUs: Object.fromEntries([...categories].map(([k, v]) => [k, Math.round(v)])),
    allFunctionsUs: Object.fromEntries([...functions].map(([k, v]) => [k, Math.round(v)])),
  };
}

export function formatProfile(title: string, summary: ProfileSummary, requests?: number): string {
  const perRequest = (us: number) => (requests ? ` | ${(us / requests).toFixed(1)}` : '');
  const head = requests ? ' | µs/request |' : ' |';
  const rule = requests ? '|---:|---|---:|' : '|---:|---|';
  const lines = [
    `### ${title}`,
    ``,
    `${summary.file}: idle ${summary.idlePct}% of the samples; shares are of the busy time` +
      (requests
        ? ` (${requests} requests, ${(summary.busyUs / requests).toFixed(1)} µs busy per request)`
        : ''),
    ``,
    `| self % | by package / area${head}`,
    rule,
    ...summary.byCategory.map((e) => `| ${e.selfPct.toFixed(1)} | ${e.name}${perRequest(e.selfUs)} |`),
    ``,
    `| self % | top functions${head}`,
    rule,
    ...summary.topFunctions.map((e) => `| ${e.selfPct.toFixed(1)} | \`${e.name}\`${perRequest(e.selfUs)} |`),
  ];
  return lines.join('\n');
}

/** Where the extra time per request goes: `subject` minus `baseline`, per area and per function (µs/request). */
export function formatProfileDiff(
  title: string,
  subject: { summary: ProfileSummary; requests: number },
  baseline: { summary: ProfileSummary; requests: number },
  baselineName: string,
  rows = 12,
): string {
  const diff = (a: Record<string, number>, b: Record<string, number>) => {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys]
      .map((k) => ({ k, d: (a[k] ?? 0) / subject.requests - (b[k] ?? 0) / baseline.requests }))
      .sort((x, y) => y.d - x.d);
  };
  const total = subject.summary.busyUs / subject.requests - baseline.summary.busyUs / baseline.requests;
  const cats = diff(subject.summary.allCategoriesUs, baseline.summary.allCategoriesUs);
  const fns = diff(subject.summary.allFunctionsUs, baseline.summary.allFunctionsUs);
  return [
    `### ${title}`,
    ``,
    `Main-thread busy time: ${(subject.summary.busyUs / subject.requests).toFixed(1)} µs/request vs ` +
      `${(baseline.summary.busyUs / baseline.requests).toFixed(1)} for ${baselineName}: ${total.toFixed(1)} µs more.`,
    ``,
    `| extra µs/request | area |`,
    `|---:|---|`,
    ...cats
      .filter((c) => Math.abs(c.d) >= 0.5)
      .slice(0, rows)
      .map((c) => `| ${c.d.toFixed(1)} | ${c.k} |`),
    ``,
    `| extra µs/request | function |`,
    `|---:|---|`,
    ...fns.slice(0, rows + 4).map((c) => `| ${c.d.toFixed(1)} | \`${c.k}\` |`),
  ].join('\n');
}
