import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * docs/SECURITY.md's Guarantees table names, for every promise, the tests that prove it:
 * a file in backticks, then the names of its tests (or, for `test/attacks`, of its attack
 * cases) in double quotes. This checks that every row cites at least one test and that each
 * cited file exists and holds each cited name, so the table cannot point at a test that was
 * renamed or removed. That the cited tests pass is what the rest of `npm test` shows.
 */
const root = resolve(__dirname, '../..');
const security = readFileSync(join(root, 'docs/SECURITY.md'), 'utf8');

function filesUnder(path: string): string[] {
  const full = join(root, path);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full).flatMap((name) => filesUnder(join(path, name)));
}

interface Row {
  id: string;
  citations: { file: string; name: string }[];
}

function guaranteeRows(): Row[] {
  const start = security.indexOf('\n## Guarantees');
  if (start < 0) return [];
  const end = security.indexOf('\n## ', start + 1);
  const section = security.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((line) => /^\| G\d+ \|/.test(line))
    .map((line) => {
      const cells = line.split(' | ');
      const id = cells[0].slice(2);
      const proof = cells.at(-1)!;
      const citations: Row['citations'] = [];
      let file = '';
      for (const m of proof.matchAll(/`([^`]+)`|"([^"]+)"/g)) {
        if (m[1] !== undefined && /^(src|test)\//.test(m[1])) file = m[1];
        else if (m[2] !== undefined) citations.push({ file, name: m[2] });
      }
      return { id, citations };
    });
}

/**
 * Whether `text` names `name`: literally, or through a template literal of a generated case
 * (`guarantee/jwt-forged-${keyId}` names `guarantee/jwt-forged-carol-1`).
 */
function names(text: string, name: string): boolean {
  if (text.includes(name)) return true;
  for (const [, template] of text.matchAll(/`([^`\n]*\$\{[^`\n]*)`/g)) {
    if (template.replace(/\$\{[^}]*\}/g, '').length < 12) continue; // too little text to name one case
    const pattern = template
      .split(/\$\{[^}]*\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^\\s]+');
    if (new RegExp(`^${pattern}$`).test(name)) return true;
  }
  return false;
}

const rows = guaranteeRows();

describe('docs/SECURITY.md Guarantees table', () => {
  it('has rows, numbered once each', () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  });

  it.each(rows.map((r) => [r.id, r] as const))('%s cites tests that exist', (_id, row) => {
    expect(row.citations.length).toBeGreaterThan(0);
    const missing = row.citations.filter(({ file, name }) => {
      if (!file || !existsSync(join(root, file))) return true;
      return !filesUnder(file).some((f) => names(readFileSync(f, 'utf8'), name));
    });
    expect(missing).toEqual([]);
  });
});
