import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haproxyBinary } from '../setup/services';
import { REPO } from './processes';
import { RunningProxy, startProxyProcess } from './proxy-process';

/** The shipped example, rendered with test paths and ports: the tests prove what we ship. */
export const HAPROXY_EXAMPLE = join(REPO, 'examples/haproxy/keypair-auth-mtls.cfg');

/** The lenient mode the example's comment names, for the servers where the app decides. */
export const HAPROXY_LENIENT = 'verify optional ca-ignore-err all crt-ignore-err all';

export interface HaproxyConfig {
  /** `required` as shipped, or the lenient mode of the example's comment. */
  servers: { port: number; verify: 'required' | 'lenient' }[];
  upstreamPort: number;
  /** Source address of HAProxy's connections to the app: the app's trusted proxy. */
  source: string;
  /** Server certificate, chain and key in one PEM file. */
  serverPemPath: string;
  clientCaPath: string;
}

function renderExample(example: string, config: HaproxyConfig): string {
  const bind =
    'bind *:443 ssl crt /etc/keypair-auth/servers/api.example.com/haproxy.pem ca-file /etc/keypair-auth/ca-bundle.pem verify required';
  const server = 'server app1 10.0.0.10:3000';
  for (const line of [bind, server, 'global\n']) {
    if (!example.includes(line)) throw new Error(`${HAPROXY_EXAMPLE} no longer contains ${line}`);
  }
  const binds = config.servers
    .map((s) =>
      bind
        .replace('*:443', `127.0.0.1:${s.port}`)
        .replace('/etc/keypair-auth/servers/api.example.com/haproxy.pem', config.serverPemPath)
        .replace('/etc/keypair-auth/ca-bundle.pem', config.clientCaPath)
        .replace('verify required', s.verify === 'required' ? 'verify required' : HAPROXY_LENIENT),
    )
    .join('\n    ');
  return example
    .replace(bind, binds)
    .replace(server, `server app1 127.0.0.1:${config.upstreamPort} source ${config.source}`)
    .replace('global\n', 'global\n    nbthread 1\n');
}

/** Starts a private HAProxy (own config in a temp dir, foreground: -db) and waits until it listens. */
export async function startHaproxy(config: HaproxyConfig): Promise<RunningProxy> {
  const binary = haproxyBinary();
  if (binary === null) throw new Error('haproxy not found');
  const dir = await mkdtemp(join(tmpdir(), 'kpa-haproxy-'));
  const confPath = join(dir, 'haproxy.cfg');
  await writeFile(confPath, renderExample(await readFile(HAPROXY_EXAMPLE, 'utf8'), config));
  return startProxyProcess({
    name: 'haproxy',
    binary,
    args: ['-db', '-f', confPath],
    dir,
    ports: config.servers.map((s) => s.port),
    logFile: join(dir, 'none.log'),
  });
}
