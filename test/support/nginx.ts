import { ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxBinary } from '../setup/services';
import { REPO } from './processes';

/** The sample configuration snippet from examples/, included as is: the tests prove what we ship. */
export const NGINX_HEADERS_SNIPPET = join(REPO, 'examples/nginx/client-certificate-headers.conf');

export interface NginxServerBlock {
  port: number;
  /** `on`, `optional`, or `optional_no_ca`. */
  verifyClient: 'on' | 'optional' | 'optional_no_ca';
}

export interface NginxConfig {
  servers: NginxServerBlock[];
  /** The app (upstream) port on 127.0.0.1. */
  upstreamPort: number;
  /** Source address of nginx's upstream connections (proxy_bind): the app's trusted proxy. */
  proxyBind: string;
  /** A second upstream for /capture/, to record exactly what nginx sends. */
  capturePort?: number;
  serverCertPath: string;
  serverKeyPath: string;
  clientCaPath: string;
}

export interface RunningNginx {
  prefix: string;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

function render(config: NginxConfig, prefix: string): string {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const locations = [
    '    location / {',
    '      proxy_pass http://app;',
    `      include ${NGINX_HEADERS_SNIPPET};`,
    '    }',
    ...(config.capturePort === undefined
      ? []
      : [
          '    location /capture/ {',
          '      proxy_pass http://capture;',
          `      include ${NGINX_HEADERS_SNIPPET};`,
          '    }',
        ]),
  ];
  const servers = config.servers.map((server) =>
    [
      '  server {',
      `    listen 127.0.0.1:${server.port} ssl;`,
      `    ssl_certificate ${config.serverCertPath};`,
      `    ssl_certificate_key ${config.serverKeyPath};`,
      `    ssl_client_certificate ${config.clientCaPath};`,
      `    ssl_verify_client ${server.verifyClient};`,
      '    ssl_verify_depth 2;',
      '    ssl_session_cache off;',
      '    ssl_session_tickets off;',
      ...locations,
      '  }',
    ].join('\n'),
  );
  return [
    // The master runs in the foreground so the test owns the process; nothing touches /etc/nginx.
    'daemon off;',
    'worker_processes 1;',
    root ? 'user root root;' : '',
    `pid ${prefix}/nginx.pid;`,
    `error_log ${prefix}/error.log info;`,
    'events { worker_connections 64; }',
    'http {',
    `  access_log ${prefix}/access.log;`,
    `  client_body_temp_path ${prefix}/tmp/body;`,
    `  proxy_temp_path ${prefix}/tmp/proxy;`,
    `  fastcgi_temp_path ${prefix}/tmp/fastcgi;`,
    `  uwsgi_temp_path ${prefix}/tmp/uwsgi;`,
    `  scgi_temp_path ${prefix}/tmp/scgi;`,
    `  proxy_bind ${config.proxyBind};`,
    `  upstream app { server 127.0.0.1:${config.upstreamPort}; }`,
    config.capturePort === undefined ? '' : `  upstream capture { server 127.0.0.1:${config.capturePort}; }`,
    ...servers,
    '}',
    '',
  ].join('\n');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a private nginx (own prefix, config, pid and logs in a temp dir) and waits until it listens. */
export async function startNginx(config: NginxConfig): Promise<RunningNginx> {
  const binary = nginxBinary();
  if (binary === null) throw new Error('nginx not found');
  const prefix = await mkdtemp(join(tmpdir(), 'kpa-nginx-'));
  await mkdir(join(prefix, 'tmp'));
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, render(config, prefix));
  const child: ChildProcess = spawn(binary, ['-p', prefix, '-c', confPath, '-e', join(prefix, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const errorLog = () => readFile(join(prefix, 'error.log'), 'utf8').catch(() => '');
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`nginx exited with ${child.exitCode}: ${output}\n${await errorLog()}`);
    }
    const open = await Promise.all(config.servers.map((s) => portOpen(s.port)));
    if (open.every(Boolean)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not listen within 10 s: ${output}\n${await errorLog()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    prefix,
    errorLog,
    stop: async () => {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGQUIT'); // graceful shutdown of master and worker
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        });
      }
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
