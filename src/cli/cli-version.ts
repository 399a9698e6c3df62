import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** This package's version, from its package.json (found upwards from this file, in src/ or dist/). */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'nestjs-keypair-auth' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look one level up
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
