import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO } from '../support/processes';

/**
 * The README's "Your first app in five minutes": its blocks, each after a
 * `<!-- first-app:NAME -->` marker (a file of the app, or `shell` for the commands).
 * FIRST_APP_MARKDOWN names another Markdown file to read them from (default README.md).
 */
export function firstAppBlocks(): { source: string; blocks: Map<string, string> } {
  const source = resolve(REPO, process.env.FIRST_APP_MARKDOWN ?? 'README.md');
  const text = readFileSync(source, 'utf8');
  const blocks = new Map<string, string>();
  for (const match of text.matchAll(/<!-- first-app:(\S+) -->\s*\n```[a-z]*\n([\s\S]*?)\n```/g)) {
    if (blocks.has(match[1])) throw new Error(`${source}: two blocks marked first-app:${match[1]}`);
    blocks.set(match[1], `${match[2]}\n`);
  }
  return { source, blocks };
}

/** One line of the shell block, classified by what the test does with it. */
export type ShellStep =
  | { kind: 'install'; packages: string[] }
  | { kind: 'start'; line: string }
  | { kind: 'env'; name: string; value: string }
  | { kind: 'run'; line: string };

export function shellSteps(block: string): ShellStep[] {
  const steps: ShellStep[] = [];
  for (const raw of block.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const exported = /^export ([A-Z_]+)=(\S+)$/.exec(line);
    if (line.startsWith('npm install ')) {
      steps.push({ kind: 'install', packages: line.slice('npm install '.length).split(/\s+/) });
    } else if (/node dist\/main\.js$/.test(line)) {
      steps.push({ kind: 'start', line });
    } else if (exported) {
      steps.push({ kind: 'env', name: exported[1], value: exported[2] });
    } else {
      steps.push({ kind: 'run', line });
    }
  }
  return steps;
}
