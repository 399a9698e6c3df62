import { execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';

export const PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function postgresUsable(): Promise<boolean> {
  if (!(await tcpOpen('127.0.0.1', 5432))) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require('pg') as typeof import('pg');
  const client = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Debian's python3 with python3-jwt and python3-cryptography, for interop tests. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

function pythonJwtUsable(): boolean {
  try {
    execFileSync(DEBIAN_PYTHON, ['-c', 'import jwt, cryptography'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * nginx (Debian's nginx-light in CI) for the client-certificate e2e tests, which start
 * their own instance; the system service is never used. KPA_NGINX overrides the binary;
 * otherwise PATH, then /usr/sbin (not on a normal user's PATH).
 */
export function nginxBinary(): string | null {
  for (const candidate of [process.env.KPA_NGINX, 'nginx', '/usr/sbin/nginx']) {
    if (!candidate) continue;
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore', timeout: 10_000 });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return null;
}

/** The first candidate that runs with `versionFlag`, as nginxBinary does. */
function firstRunnable(candidates: (string | undefined)[], versionFlag: string): string | null {
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      execFileSync(candidate, [versionFlag], { stdio: 'ignore', timeout: 10_000 });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return null;
}

/** Apache httpd (Debian's apache2) for the client-certificate e2e tests; KPA_APACHE overrides it. */
export function apacheBinary(): string | null {
  return firstRunnable([process.env.KPA_APACHE, '/usr/sbin/apache2', '/usr/sbin/httpd'], '-v');
}

/** HAProxy (Debian's haproxy) for the client-certificate e2e tests; KPA_HAPROXY overrides it. */
export function haproxyBinary(): string | null {
  return firstRunnable([process.env.KPA_HAPROXY, 'haproxy', '/usr/sbin/haproxy'], '-v');
}

export type ServiceName = 'postgres' | 'redis' | 'python' | 'nginx' | 'apache' | 'haproxy';

export async function probeServices(): Promise<Record<ServiceName, boolean>> {
  const [postgres, redis] = await Promise.all([postgresUsable(), tcpOpen('127.0.0.1', 6379)]);
  return {
    postgres,
    redis,
    python: pythonJwtUsable(),
    nginx: nginxBinary() !== null,
    apache: apacheBinary() !== null,
    haproxy: haproxyBinary() !== null,
  };
}

/** True when the global setup found the service; tests use it to decide whether to run. */
export function haveService(name: ServiceName): boolean {
  return process.env[`KPA_HAVE_${name.toUpperCase()}`] === '1';
}
