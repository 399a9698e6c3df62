import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The key types ssh-keygen makes that this module signs with. */
export const SSH_KEY_TYPES = [
  { name: 'ed25519', args: ['-t', 'ed25519'] },
  { name: 'ecdsa-p256', args: ['-t', 'ecdsa', '-b', '256'] },
  { name: 'ecdsa-p384', args: ['-t', 'ecdsa', '-b', '384'] },
  { name: 'rsa-3072', args: ['-t', 'rsa', '-b', '3072'] },
] as const;

/** True when the OpenSSH programs the tests run (ssh-keygen, ssh-agent, ssh-add) are installed. */
export function hasOpenSsh(): boolean {
  return ['ssh-keygen', 'ssh-agent', 'ssh-add'].every(
    (program) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0,
  );
}

/** describe, or describe.skip with the reason shown (an error under REQUIRE_SERVICES=1). */
export function describeWithOpenSsh(name: string, body: () => void): void {
  if (hasOpenSsh()) return describe(name, body);
  if (process.env.REQUIRE_SERVICES === '1') throw new Error('ssh-keygen, ssh-agent and ssh-add are required');
  describe.skip(`${name} (skipped: ssh-keygen/ssh-agent/ssh-add not installed)`, body);
}

/** ssh-keygen -t … [-N passphrase] -f dir/name: the private key path and its .pub line. */
export function sshKeygen(
  dir: string,
  name: string,
  args: readonly string[],
  passphrase = '',
): { file: string; pub: string } {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', ...args, '-N', passphrase, '-C', `${name}@test`, '-f', file], {
    stdio: 'ignore',
  });
  return { file, pub: readFileSync(`${file}.pub`, 'utf8').trim() };
}

export interface SshAgent {
  socket: string;
  /** ssh-add FILE; an encrypted key's passphrase goes through SSH_ASKPASS, as a desktop does. */
  add(file: string, passphrase?: string): void;
  stop(): Promise<void>;
}

/** A real ssh-agent in the foreground (-D) on its own socket, for one test file. */
export async function startSshAgent(dir: string, name = 'agent'): Promise<SshAgent> {
  const socket = join(dir, `${name}.sock`);
  const child: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('ssh-agent did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    socket,
    add(file, passphrase) {
      const env: NodeJS.ProcessEnv = { ...process.env, SSH_AUTH_SOCK: socket };
      if (passphrase !== undefined) {
        const askpass = join(dir, `${name}-askpass.sh`);
        writeFileSync(join(dir, `${name}-askpass.txt`), passphrase, { mode: 0o600 });
        writeFileSync(askpass, `#!/bin/sh\ncat ${JSON.stringify(join(dir, `${name}-askpass.txt`))}\n`, {
          mode: 0o700,
        });
        Object.assign(env, { SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' });
      }
      execFileSync('ssh-add', [file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    },
    stop: () =>
      new Promise<void>((ok) => {
        if (child.exitCode !== null || child.signalCode !== null) return ok();
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
}
