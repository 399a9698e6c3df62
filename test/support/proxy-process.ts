import { ChildProcess, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';

export interface RunningProxy {
  /** The temp directory with the rendered configuration and the logs. */
  dir: string;
  /** What the process printed, then its log file. */
  log(): Promise<string>;
  /** Stops the process (TERM, then KILL after 5 s) and removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
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

/**
 * Runs a proxy in the foreground as a child of the test (never as a system service) and
 * waits until every port listens; on any failure the child is killed and the error
 * carries its output and log.
 */
export async function startProxyProcess(options: {
  name: string;
  binary: string;
  args: string[];
  dir: string;
  ports: number[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
}): Promise<RunningProxy> {
  const child: ChildProcess = spawn(options.binary, options.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const log = async () => `${output}\n${await readFile(options.logFile, 'utf8').catch(() => '')}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(options.dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      const text = await log();
      await stop();
      throw new Error(`${options.name} exited with ${child.exitCode}: ${text}`);
    }
    const open = await Promise.all(options.ports.map(portOpen));
    if (open.every(Boolean)) break;
    if (Date.now() > deadline) {
      const text = await log();
      await stop();
      throw new Error(`${options.name} did not listen within 15 s: ${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { dir: options.dir, log, stop };
}
