import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apacheBinary } from '../setup/services';
import { REPO } from './processes';
import { RunningProxy, startProxyProcess } from './proxy-process';

/** The shipped example, rendered with test paths and ports: the tests prove what we ship. */
export const APACHE_EXAMPLE = join(REPO, 'examples/apache/keypair-auth-mtls.conf');
const MODULES = '/usr/lib/apache2/modules';

export interface ApacheConfig {
  /** One virtual host per entry: the example as shipped (`require`) or with another SSLVerifyClient. */
  servers: { port: number; verifyClient: 'require' | 'optional_no_ca' }[];
  /** The app (upstream) port on 127.0.0.1. */
  upstreamPort: number;
  serverCertPath: string;
  serverKeyPath: string;
  /** Server chain (SSLCertificateChainFile). */
  serverChainPath: string;
  /** What Apache trusts for client certificates (SSLCACertificateFile). */
  clientCaPath: string;
  /**
   * TLS session resumption as a packaged Apache has it (default true): Debian's ssl.conf
   * shmcb session cache, and session tickets on (mod_ssl's default). false turns both off.
   */
  sessionResumption?: boolean;
}

/** The example's placeholders, replaced literally; each must occur, so a changed example fails loudly. */
function renderExample(example: string, config: ApacheConfig, server: ApacheConfig['servers'][0]): string {
  const replacements: [string, string][] = [
    ['<VirtualHost *:443>', `<VirtualHost 127.0.0.1:${server.port}>`],
    ['/etc/keypair-auth/servers/api.example.com/cert.pem', config.serverCertPath],
    ['/etc/keypair-auth/servers/api.example.com/key.pem', config.serverKeyPath],
    ['/etc/keypair-auth/servers/api.example.com/chain.pem', config.serverChainPath],
    ['/etc/keypair-auth/ca-bundle.pem', config.clientCaPath],
    ['http://10.0.0.10:3000/', `http://127.0.0.1:${config.upstreamPort}/`],
    ['SSLVerifyClient require', `SSLVerifyClient ${server.verifyClient}`],
  ];
  let text = example;
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`${APACHE_EXAMPLE} no longer contains ${from}`);
    text = text.split(from).join(to);
  }
  return text;
}

/** Starts a private Apache httpd (own config, pid, mutex and logs in a temp dir) in the foreground. */
export async function startApache(config: ApacheConfig): Promise<RunningProxy> {
  const binary = apacheBinary();
  if (binary === null) throw new Error('apache2 not found');
  const dir = await mkdtemp(join(tmpdir(), 'kpa-apache-'));
  await chmod(dir, 0o755);
  const example = await readFile(APACHE_EXAMPLE, 'utf8');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const conf = [
    `ServerRoot ${dir}`,
    'ServerName 127.0.0.1',
    `PidFile ${dir}/httpd.pid`,
    `DefaultRuntimeDir ${dir}`,
    `Mutex file:${dir} default`,
    `ErrorLog ${dir}/error.log`,
    'LogLevel warn',
    // Apache refuses to serve as root; its children run as nobody (the keys are read before).
    root ? 'User nobody' : '',
    root ? 'Group nogroup' : '',
    ...['mpm_event', 'authz_core', 'socache_shmcb', 'ssl', 'headers', 'proxy', 'proxy_http'].map(
      (m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`,
    ),
    'StartServers 1',
    'ServerLimit 1',
    'ThreadsPerChild 8',
    'MaxRequestWorkers 8',
    // Resumed sessions are where mod_ssl's verdict differs (optional_no_ca reports SUCCESS on
    // them): the tests run with resumption on unless a test turns it off.
    ...(config.sessionResumption === false
      ? ['SSLSessionCache none', 'SSLSessionTickets off']
      : [`SSLSessionCache shmcb:${dir}/ssl_scache(512000)`, 'SSLSessionCacheTimeout 300']),
    ...config.servers.map((s) => `Listen 127.0.0.1:${s.port} https`),
    ...config.servers.map((s) => renderExample(example, config, s)),
    '',
  ].join('\n');
  const confPath = join(dir, 'httpd.conf');
  await writeFile(confPath, conf);
  return startProxyProcess({
    name: 'apache2',
    binary,
    args: ['-f', confPath, '-DFOREGROUND'],
    dir,
    ports: config.servers.map((s) => s.port),
    logFile: join(dir, 'error.log'),
  });
}
