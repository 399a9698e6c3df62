import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '../..');
const copies = join(repoRoot, 'test/fixtures/vectors');
const shared = resolve(repoRoot, '../shared/vectors');
const files = ['rfc9421.json', 'cavage12.json', 'rfc9530.json'];

describe('test vector files', () => {
  it.each(files)('%s is present and valid JSON', (file) => {
    expect(() => JSON.parse(readFileSync(join(copies, file), 'utf8'))).not.toThrow();
  });

  // Skipped in a checkout without ../shared (a user's clone): the copies above are then the vectors.
  const check = existsSync(shared) ? it.each(files) : it.skip.each(files);
  check('%s is byte-identical to ../shared/vectors', (file) => {
    expect(readFileSync(join(copies, file)).equals(readFileSync(join(shared, file)))).toBe(true);
  });
});
