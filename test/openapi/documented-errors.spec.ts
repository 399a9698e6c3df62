import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_FORMAT_ERROR_CODES } from '../../src/keys/formats/key-format.error';
import { OPERATION_ERRORS, REQUEST_ERROR_STATUS } from '../../src/openapi/documented-errors';

const SRC = join(__dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('the error codes the OpenAPI document lists', () => {
  it('knows the status of every request error code the sources throw', () => {
    const thrown = new Set<string>(KEY_FORMAT_ERROR_CODES);
    for (const file of sources(SRC)) {
      for (const match of readFileSync(file, 'utf8').matchAll(
        /new KeypairRequestException\(\s*'([A-Z_]+)'/g,
      )) {
        thrown.add(match[1]);
      }
    }
    expect(thrown.size).toBeGreaterThan(15);
    expect([...thrown].filter((code) => !(code in REQUEST_ERROR_STATUS))).toEqual([]);
  });

  it('gives every request error code to at least one operation', () => {
    const used = new Set<string>(Object.values(OPERATION_ERRORS).flat());
    expect(Object.keys(REQUEST_ERROR_STATUS).filter((code) => !used.has(code))).toEqual([]);
  });
});
