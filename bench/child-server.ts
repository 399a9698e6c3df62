import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { sleep } from './common';

/*
 * A benchmark server in a child process, spoken to over IPC ({id, type, …} → {id, reply | error}).
 * Shared by the HTTP and the scale benchmarks: each passes its own script and a set in which
 * live servers are kept, so an interrupted run can kill them all.
 */

export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class ChildServer<Request extends { type: string }> {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly output: string[] = [];
  port = 0;
  exited = false;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly registry: Set<ChildServer<never>>,
  ) {
    const keep = (chunk: Buffer) => {
      this.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.output.length > 40) this.output.splice(0, this.output.length - 40);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    registry.add(this as ChildServer<never>);
    child.on('exit', () => {
      this.exited = true;
      registry.delete(this as ChildServer<never>);
      for (const w of this.waiting.values()) w.reject(new Error(`${name}: server exited`));
      this.waiting.clear();
    });
    child.on('message', (m: { id?: number; reply?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(`${name}: ${m.error}`));
      else w.resolve(m.reply);
    });
  }

  /** Forks `script` (next to this file) with `env`, and resolves once it reports `{ready, port}`. */
  static start<R extends { type: string }>(
    name: string,
    script: string,
    env: Record<string, string>,
    registry: Set<ChildServer<never>>,
  ): Promise<ChildServer<R>> {
    const child = fork(join(__dirname, script), [], {
      env: { ...process.env, ...env, NODE_ENV: 'development', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const handle = new ChildServer<R>(name, child, registry);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name}: not ready within 60 s\n${handle.tail()}`));
      }, 60_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name}: exited with ${code} before it was ready\n${handle.tail()}`));
      });
      child.on('message', (m: { ready?: boolean; port?: number }) => {
        if (!m.ready) return;
        clearTimeout(timer);
        handle.port = m.port!;
        resolve(handle);
      });
    });
  }

  request<T>(message: WithoutId<Request>, timeoutMs = 30_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no answer to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...message, id });
    });
  }

  /** The server's last log lines (repeats collapsed), for error messages. */
  tail(lines = 8): string {
    const out: string[] = [];
    for (const line of this.output) {
      // eslint-disable-next-line no-control-regex -- strip ANSI colours
      const text = line.replace(/\x1b\[[0-9;]*m/g, '').slice(0, 400);
      const last = out.at(-1);
      if (last && last.replace(/^\(\d+x\) /, '').slice(40) === text.slice(40)) {
        const n = Number(/^\((\d+)x\)/.exec(last)?.[1] ?? 1) + 1;
        out[out.length - 1] = `(${n}x) ${last.replace(/^\(\d+x\) /, '')}`;
      } else out.push(text);
    }
    return out
      .slice(-lines)
      .map((l) => `    [${this.name}] ${l}`)
      .join('\n');
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    try {
      await this.request({ type: 'stop' } as unknown as WithoutId<Request>, 10_000);
    } catch {
      // fall through to the kill below
    }
    for (let i = 0; i < 50 && !this.exited; i++) await sleep(100);
    if (!this.exited) this.child.kill('SIGKILL');
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
