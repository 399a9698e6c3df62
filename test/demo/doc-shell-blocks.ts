import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support/processes';

/**
 * The convention the docs follow: a fenced ```bash block that mentions `127.0.0.1:3000`,
 * `npm run -s cli` or `npm start` targets the demo server, and runs as written against it.
 * A block that targets the demo but cannot run here (it needs nginx, say) has the line
 * `<!-- demo:skip REASON -->` right before its fence.
 */
export const TARGETS_DEMO = /127\.0\.0\.1:3000|npm run -s cli\b|npm start\b/;
const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})\s*(bash|sh|shell)\s*$/;
const SKIP = /^\s*<!--\s*demo:skip\b(.*?)-->\s*$/;
const COMMENT = /^\s*<!--.*-->\s*$/;

export interface ShellBlock {
  /** Path from the repo root, e.g. docs/tokens.md. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** The reason given in `<!-- demo:skip REASON -->`, or null when the block runs. */
  skip: string | null;
}

/** The demo-targeting shell blocks of one Markdown text, in document order. */
export function demoShellBlocks(markdown: string, file: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]);
    if (!open) {
      // Skip over other fenced blocks whole, so a fence inside them is not read as ours.
      const other = /^(\s*)(`{3,}|~{3,})/.exec(lines[i]);
      if (other) i = closingFence(lines, i, other[2]);
      continue;
    }
    const [, indent, fence] = open;
    const end = closingFence(lines, i, fence);
    const code = lines
      .slice(i + 1, end)
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join('\n');
    if (TARGETS_DEMO.test(code)) blocks.push({ file, line: i + 1, code, skip: skipReason(lines, i, file) });
    i = end;
  }
  return blocks;
}

function closingFence(lines: string[], open: number, fence: string): number {
  for (let j = open + 1; j < lines.length; j++) {
    if (
      lines[j].trim().startsWith(fence[0].repeat(fence.length)) &&
      lines[j].trim().replace(/[`~]/g, '') === ''
    )
      return j;
  }
  return lines.length;
}

/** `<!-- demo:skip REASON -->` among the comment lines right above the fence (blank lines allowed). */
function skipReason(lines: string[], fenceIndex: number, file: string): string | null {
  for (let j = fenceIndex - 1; j >= 0; j--) {
    const line = lines[j];
    if (line.trim() === '') continue;
    const skip = SKIP.exec(line);
    if (skip) {
      const reason = skip[1].trim();
      if (!reason) {
        throw new Error(
          `${file}:${j + 1}: <!-- demo:skip --> needs a reason, e.g. <!-- demo:skip needs nginx in front of the demo -->`,
        );
      }
      return reason;
    }
    if (!COMMENT.test(line)) return null;
  }
  return null;
}

/**
 * README.md and every Markdown page under docs/, repo-relative, README first.
 * `DEMO_DOCS_PAGES=docs/tokens.md,…` runs only those pages (to try one page while writing it).
 */
export function docPages(): string[] {
  const only = process.env.DEMO_DOCS_PAGES;
  if (only) return only.split(',').map((p) => p.trim());
  const docs = readdirSync(join(REPO, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('.md'))
    .map((p) => join('docs', p))
    .sort();
  return ['README.md', ...docs];
}

export function readPage(file: string): string {
  return readFileSync(join(REPO, file), 'utf8');
}

export interface ScriptTarget {
  /** `node "/…/dist/src/cli/main.js"`: what `npm run -s cli --` becomes. */
  cli: string;
  /** `127.0.0.1:PORT`: what `127.0.0.1:3000` becomes. */
  authority: string;
}

/**
 * The blocks as one bash script, verbatim but for the quickstart test's substitutions:
 * the CLI by path, the demo's port, and no `npm start` / `npm ci` lines (the test has
 * started the demo). Before each block a marker line names it, on stdout and stderr.
 */
export function blocksToScript(blocks: readonly ShellBlock[], target: ScriptTarget): string {
  return blocks
    .map((b) => {
      const marker = blockMarker(b);
      const code = b.code
        .split('\n')
        .filter((l) => !/^\s*npm (start|ci)\b/.test(l))
        .map((l) =>
          l.replaceAll('npm run -s cli --', target.cli).replaceAll('127.0.0.1:3000', target.authority),
        )
        .join('\n');
      return `printf '%s\\n' '${marker}'; printf '%s\\n' '${marker}' >&2\n${code}\n`;
    })
    .join('');
}

export function blockMarker(b: Pick<ShellBlock, 'file' | 'line'>): string {
  return `::demo-block ${b.file}:${b.line}::`;
}

/** Splits a script's stdout by block marker: each block's own output. */
export function outputByBlock(stdout: string, blocks: readonly ShellBlock[]): Map<ShellBlock, string> {
  const out = new Map<ShellBlock, string>();
  const positions = blocks.map((b) => stdout.indexOf(`${blockMarker(b)}\n`));
  blocks.forEach((b, k) => {
    if (positions[k] < 0) return;
    const start = positions[k] + blockMarker(b).length + 1;
    const next = positions.slice(k + 1).find((p) => p >= 0);
    out.set(b, stdout.slice(start, next ?? stdout.length));
  });
  return out;
}

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The block that ran last (the failing one when code is not 0). */
  lastBlock: string | null;
}

/** Runs a script in one `bash -euo pipefail` session, without blocking the event loop. */
export function runBash(
  script: string,
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<ScriptResult> {
  return new Promise((ok, fail) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', fail);
    child.once('close', (code) => {
      clearTimeout(timer);
      const markers = stdout.match(/::demo-block [^\n]*::/g);
      ok({ code, stdout, stderr, lastBlock: markers?.at(-1) ?? null });
    });
  });
}
