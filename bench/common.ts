import { cpus, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';

/** The median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function nowMs(): number {
  return performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** 12345.6 → "12,346"; small values keep a few significant digits. */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function formatMicros(us: number): string {
  if (!Number.isFinite(us)) return '—';
  return us >= 100 ? formatNumber(us, 0) : us >= 10 ? formatNumber(us, 1) : formatNumber(us, 2);
}

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  memoryGiB: number;
  loadavgAtStart: number[];
}

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadavgAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** One line of the final table. */
export interface Row {
  section: 'micro' | 'http';
  name: string;
  /** ops/s (micro) or 2xx responses/s (http): the median of the runs. */
  rate: number;
  /** µs per operation (micro: 1/rate on one core; http: server CPU time per response). */
  micros: number;
  /** HTTP only: median p99 latency in ms. */
  p99Ms?: number;
  /** Median over rounds of rate / baseline rate in the same round. */
  ratio?: number;
  /** HTTP: median over rounds of baseline CPU µs per request / this row's. */
  cpuRatio?: number;
  baseline?: string;
  /**
   * A second baseline measured in the same rounds, and the ratio to it: for the Redis replay
   * store rows, the limit plus the one Redis round trip that a shared nonce store cannot avoid.
   */
  secondary?: { baseline: string; ratio: number };
  /** The goal for this row, e.g. "≥ 0.85", and whether this run met it. */
  target?: { label: string; met: boolean };
  runs: number[];
  note?: string;
}

export function targetStatus(row: Row): string {
  if (!row.target) return '';
  return `${row.target.label}: ${row.target.met ? 'met' : 'MISSED'}`;
}

export function markdownTable(rows: readonly Row[]): string {
  const header =
    '| # | benchmark | rate (median) | µs/op ¹ | p99 ms | ratio ² | CPU ratio ³ | baseline | target |\n' +
    '|---|---|---:|---:|---:|---:|---:|---|---|';
  const lines = rows.map((row, i) => {
    const unit = row.section === 'micro' ? 'ops/s' : 'req/s';
    return [
      '',
      String(i + 1),
      row.name,
      `${formatNumber(row.rate)} ${unit}`,
      formatMicros(row.micros),
      row.p99Ms === undefined ? '' : row.p99Ms < 1 ? '< 1' : formatNumber(row.p99Ms, 0),
      row.ratio === undefined ? '' : formatNumber(row.ratio, 2),
      row.cpuRatio === undefined ? '' : formatNumber(row.cpuRatio, 2),
      row.baseline ?? '',
      targetStatus(row),
      '',
    ].join(' | ');
  });
  return [header, ...lines.map((l) => l.trim())].join('\n');
}
