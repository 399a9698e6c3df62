import { spawnSync } from 'node:child_process';
import { CliError } from './cli-error';

/**
 * `ca issue` writes its .p12 bundle with the openssl program: without it on PATH, stop before
 * anything is issued, instead of printing "p12": null and exiting 0.
 */
export function requireOpensslForP12(): void {
  const run = spawnSync('openssl', ['version'], { stdio: 'ignore', timeout: 10_000 });
  if (run.error !== undefined && (run.error as NodeJS.ErrnoException).code === 'ENOENT')
    throw new CliError(
      'openssl is needed for the .p12 bundle: install it (e.g. apt install openssl) or pass --no-p12 ' +
        '(cert.pem and key.pem are enough for curl and Node clients).',
    );
}
