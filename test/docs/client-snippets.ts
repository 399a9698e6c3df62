import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO } from '../support/processes';

export const CLIENTS_PAGE = 'docs/clients.md';

export interface ClientSnippet {
  /** The fence's language: `js` runs as an ES module, `python` with Debian's python3. */
  lang: 'js' | 'python';
  code: string;
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
}

/**
 * The blocks of docs/clients.md, each after a `<!-- client-snippet:NAME -->` marker, verbatim,
 * as test/package/first-app.ts takes the README's `<!-- first-app:NAME -->` blocks.
 */
export function clientSnippets(
  markdown = readFileSync(resolve(REPO, CLIENTS_PAGE), 'utf8'),
): Map<string, ClientSnippet> {
  const snippets = new Map<string, ClientSnippet>();
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- client-snippet:(\S+) -->$/.exec(lines[i].trim());
    if (!marker) continue;
    const name = marker[1];
    const open = /^```(js|python)$/.exec(lines[i + 1] ?? '');
    if (!open)
      throw new Error(
        `${CLIENTS_PAGE}:${i + 1}: client-snippet:${name} is not followed by a js or python block`,
      );
    const end = lines.indexOf('```', i + 2);
    if (end < 0) throw new Error(`${CLIENTS_PAGE}:${i + 2}: unclosed block of client-snippet:${name}`);
    if (snippets.has(name)) throw new Error(`${CLIENTS_PAGE}: two blocks marked client-snippet:${name}`);
    snippets.set(name, {
      lang: open[1] as ClientSnippet['lang'],
      code: `${lines.slice(i + 2, end).join('\n')}\n`,
      line: i + 2,
    });
    i = end;
  }
  return snippets;
}
