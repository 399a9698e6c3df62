import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { createServer as netCreateServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoProcess, DIST_CLI, startDemo } from '../support/processes';
import { describeWithOpenSsh, SSH_KEY_TYPES, SshAgent, sshKeygen, startSshAgent } from '../support/ssh-tools';

/**
 * Keys made by ssh-keygen (OpenSSH format, with and without a passphrase) and keys held by a
 * real ssh-agent, used by the built CLI (`npm run build` first) against the built demo server.
 * Every key is registered from its .pub line with `keys add`.
 */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const PASSPHRASE = 'correct horse 7f3a';

describeWithOpenSsh('OpenSSH keys and ssh-agent with the CLI, against the demo', () => {
  let dir: string;
  let demo: DemoProcess;
  let agent: SshAgent;
  let soloAgent: SshAgent;
  const env: Record<string, string> = {};
  const keys = new Map<string, { plain: string; encrypted: string; keyId: string; encryptedKeyId: string }>();

  function cli(args: string[], extra: Record<string, string> = {}): Promise<Run> {
    const base = { ...process.env };
    for (const name of ['KEYPAIR_AUTH_PASSPHRASE', 'KEYPAIR_AUTH_KEY_PASSWORD', 'SSH_AUTH_SOCK'])
      delete base[name];
    return new Promise((ok, fail) => {
      const child = spawn(process.execPath, [DIST_CLI, ...args], {
        cwd: dir,
        env: { ...base, ...env, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', fail);
      child.once('close', (code) => ok({ code, stdout, stderr }));
    });
  }

  async function whoami(authorization: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${demo.url}/whoami`, { headers: { authorization } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-openssh-cli-'));
    env.DATABASE_URL = `sqlite:${join(dir, 'demo.sqlite')}`;
    demo = await startDemo(env);
    expect((await cli(['users', 'add', 'alice', '--roles', 'reader'])).code).toBe(0);
    agent = await startSshAgent(dir, 'agent');
    soloAgent = await startSshAgent(dir, 'solo');
    writeFileSync(join(dir, 'pass.txt'), `${PASSPHRASE}\n`, { mode: 0o600 });
    for (const type of SSH_KEY_TYPES) {
      const plain = sshKeygen(dir, `id_${type.name}`, type.args);
      const encrypted = sshKeygen(dir, `enc_${type.name}`, type.args, PASSPHRASE);
      const add = await cli(['keys', 'add', 'alice', `${plain.file}.pub`, '--label', type.name]);
      const addEncrypted = await cli(['keys', 'add', 'alice', `${encrypted.file}.pub`]);
      expect([add.code, addEncrypted.code]).toEqual([0, 0]);
      keys.set(type.name, {
        plain: plain.file,
        encrypted: encrypted.file,
        keyId: add.stdout.trim(),
        encryptedKeyId: addEncrypted.stdout.trim(),
      });
      agent.add(plain.file);
    }
    // One agent holding a single key, added with its passphrase through SSH_ASKPASS.
    soloAgent.add(join(dir, 'enc_ed25519'), PASSPHRASE);
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await soloAgent?.stop();
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(SSH_KEY_TYPES.map((t) => t.name))(
    '%s: an ssh-keygen key file signs token (JWT) and request (RFC 9421), plain and with its passphrase from --passphrase-file or $KEYPAIR_AUTH_PASSPHRASE',
    async (name) => {
      const key = keys.get(name)!;
      const token = await cli(['token', '--key', key.plain, '--username', 'alice']);
      expect([token.code, token.stderr]).toEqual([0, '']);
      expect(await whoami(token.stdout.trim())).toEqual({
        status: 200,
        body: expect.objectContaining({ username: 'alice', keyId: key.keyId, method: 'jwt' }),
      });
      const request = await cli(['request', 'GET', `${demo.url}/whoami`, '--key', key.plain]);
      expect([request.code, JSON.parse(request.stdout)]).toEqual([
        0,
        expect.objectContaining({ keyId: key.keyId, method: 'http-signature-rfc9421' }),
      ]);

      const fromFile = await cli([
        'token',
        '--key',
        key.encrypted,
        '--username',
        'alice',
        '--passphrase-file',
        'pass.txt',
      ]);
      expect(fromFile.code).toBe(0);
      expect((await whoami(fromFile.stdout.trim())).body).toMatchObject({ keyId: key.encryptedKeyId });
      const fromEnv = await cli(['request', 'GET', `${demo.url}/whoami`, '--key', key.encrypted], {
        KEYPAIR_AUTH_PASSPHRASE: PASSPHRASE,
      });
      expect([fromEnv.code, JSON.parse(fromEnv.stdout)]).toEqual([
        0,
        expect.objectContaining({ keyId: key.encryptedKeyId, method: 'http-signature-rfc9421' }),
      ]);
    },
  );

  it.each(SSH_KEY_TYPES.map((t) => t.name))(
    '%s through ssh-agent (--agent --key-id): token, request, request --cavage and login are accepted',
    async (name) => {
      const key = keys.get(name)!;
      const withAgent = ['--agent', '--key-id', key.keyId];
      const sock = { SSH_AUTH_SOCK: agent.socket };
      const token = await cli(['token', ...withAgent, '--username', 'alice'], sock);
      expect([token.code, token.stderr]).toEqual([0, '']);
      expect((await whoami(token.stdout.trim())).body).toMatchObject({ keyId: key.keyId, method: 'jwt' });
      const rfc9421 = await cli(['request', 'GET', `${demo.url}/whoami`, ...withAgent], sock);
      expect([rfc9421.code, JSON.parse(rfc9421.stdout)]).toEqual([
        0,
        expect.objectContaining({ keyId: key.keyId, method: 'http-signature-rfc9421' }),
      ]);
      const cavage = await cli(['request', 'GET', `${demo.url}/whoami`, '--cavage', ...withAgent], sock);
      expect([cavage.code, JSON.parse(cavage.stdout)]).toEqual([
        0,
        expect.objectContaining({ keyId: key.keyId, method: 'http-signature-cavage' }),
      ]);
      const login = await cli(['login', '--url', demo.url, ...withAgent], sock);
      expect([login.code, login.stderr]).toEqual([0, '']);
      const { accessToken } = JSON.parse(login.stdout) as { accessToken: string };
      expect((await whoami(`Bearer ${accessToken}`)).body).toMatchObject({
        username: 'alice',
        keyId: key.keyId,
      });
    },
  );

  it('G60: with --agent the private key file is never read: --key FILE picks the agent key by FILE.pub, and the one key of an agent needs no --key-id', async () => {
    const key = keys.get('ecdsa-p256')!;
    // What sits at the private key's path is not a key at all: reading it would fail.
    const decoy = join(dir, 'decoy');
    writeFileSync(decoy, 'not a private key\n', { mode: 0o600 });
    writeFileSync(`${decoy}.pub`, readFileSync(`${key.plain}.pub`, 'utf8'));
    const byPub = await cli(
      ['request', 'POST', `${demo.url}/echo`, '--agent', '--key', decoy, '-d', '{"a":1}'],
      {
        SSH_AUTH_SOCK: agent.socket,
      },
    );
    expect([byPub.code, byPub.stdout.trim(), byPub.stderr]).toEqual([0, '{"a":1}', '']);
    const solo = await cli(['token', '--agent', '--username', 'alice'], { SSH_AUTH_SOCK: soloAgent.socket });
    expect(solo.code).toBe(0);
    expect((await whoami(solo.stdout.trim())).body).toMatchObject({
      keyId: keys.get('ed25519')!.encryptedKeyId,
    });
  });

  it('--agent with several keys and no match lists the agent keys (comment and fingerprint); no agent is one line with the fix', async () => {
    const many = await cli(['token', '--agent', '--username', 'alice'], { SSH_AUTH_SOCK: agent.socket });
    expect(many.code).toBe(1);
    expect(many.stderr).toMatch(/^error: --agent: the ssh-agent holds 4 keys: pick one with its keyId/);
    expect(many.stderr).toMatch(/id_ed25519@test SHA256:[\w+/]{43} keyId [\w-]{43}/);
    expect(many.stderr.trim().split('\n')).toHaveLength(1);
    const none = await cli(['token', '--agent', '--username', 'alice']);
    expect([none.code, none.stderr.trim()]).toEqual([
      1,
      expect.stringMatching(
        /^error: --agent: no ssh-agent: \$SSH_AUTH_SOCK is not set\. Start one and add your key/,
      ),
    ]);
    const dpop = await cli(['login', '--agent', '--dpop', '--url', demo.url], {
      SSH_AUTH_SOCK: agent.socket,
    });
    expect([dpop.code, dpop.stderr.trim()]).toEqual([
      1,
      'error: --dpop signs each call with the private key in this process, so it does not work with --agent: use --key.',
    ]);
    const neither = await cli(['token', '--username', 'alice']);
    expect([neither.code, neither.stderr.trim()]).toEqual([
      1,
      'error: give --key FILE (a private key file) or --agent (sign through ssh-agent).',
    ]);
  });

  describe('G59: an OpenSSH key with a missing or wrong passphrase, or of a type that does not sign here, is refused with one line naming the fix; nothing is signed or sent', () => {
    let server: Server;
    let url: string;
    let hits = 0;
    beforeAll(async () => {
      server = createServer((_req, res) => {
        hits++;
        res.end('{}');
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/whoami`;
    });
    afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

    it('wrong passphrase, no passphrase', async () => {
      const key = keys.get('rsa-3072')!.encrypted;
      const wrong = await cli(['request', 'GET', url, '--key', key], { KEYPAIR_AUTH_PASSPHRASE: 'not it' });
      expect([wrong.code, wrong.stdout, wrong.stderr]).toEqual([
        1,
        '',
        `error: the passphrase does not decrypt ${key}; nothing was signed. Check it (ssh-keygen -y -f ${key} asks for it and prints the public key when it is right).\n`,
      ]);
      const missing = await cli(['request', 'GET', url, '--key', key]);
      expect([missing.code, missing.stdout, missing.stderr]).toEqual([
        1,
        '',
        `error: ${key} is an encrypted OpenSSH key: give its passphrase with --passphrase-file FILE or $KEYPAIR_AUTH_PASSPHRASE (or sign through ssh-agent with --agent).\n`,
      ]);
      expect(hits).toBe(0);
      // The control: with the right passphrase the same request reaches the server.
      const right = await cli(['request', 'GET', url, '--key', key, '--passphrase-file', 'pass.txt']);
      expect([right.code, hits]).toEqual([0, 1]);
      hits = 0;
    });

    it('a DSA key (ssh-dss) is refused by name', async () => {
      let dsa: string;
      try {
        dsa = sshKeygen(dir, 'id_dsa', ['-t', 'dsa']).file;
      } catch {
        return; // this OpenSSH build no longer makes DSA keys
      }
      const r = await cli(['request', 'GET', url, '--key', dsa]);
      expect([r.code, r.stderr]).toEqual([
        1,
        `error: cannot use ${dsa} as --key: OpenSSH DSA (ssh-dss) keys cannot sign here: use an Ed25519, ECDSA P-256/P-384 or RSA key (ssh-keygen -t ed25519).\n`,
      ]);
      expect(hits).toBe(0);
    });
  });

  it('G61: the passphrase never appears in the output, whether it is right or wrong', async () => {
    const key = keys.get('ed25519')!.encrypted;
    const runs = [
      await cli([
        'request',
        'GET',
        `${demo.url}/whoami`,
        '-i',
        '--key',
        key,
        '--passphrase-file',
        'pass.txt',
      ]),
      await cli(['token', '--key', key, '--username', 'alice'], { KEYPAIR_AUTH_PASSPHRASE: PASSPHRASE }),
      await cli(['token', '--key', key, '--username', 'alice'], {
        KEYPAIR_AUTH_PASSPHRASE: `${PASSPHRASE}x`,
      }),
      await cli(['token', '--key', key, '--username', 'alice', '--passphrase-file', 'pass.txt'], {
        KEYPAIR_AUTH_DEBUG: '1',
      }),
      await cli(['request', 'GET', 'http://127.0.0.1:9/none', '--key', key], {
        KEYPAIR_AUTH_PASSPHRASE: PASSPHRASE,
        KEYPAIR_AUTH_DEBUG: '1',
      }),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 1, 0, 1]);
    for (const r of runs) expect(`${r.stdout}${r.stderr}`).not.toContain(PASSPHRASE.slice(0, 10));
  });

  it('RED CASE (red-team 5 R2): --password is refused with --agent too, and nothing is printed to stdout', async () => {
    const r = await cli(['token', '--agent', '--username', 'alice', '--password', 'agent-s3cret'], {
      SSH_AUTH_SOCK: soloAgent.socket,
    });
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/^error: --password is not accepted: .*--passphrase-file FILE/);
    expect(r.stderr).not.toContain('agent-s3cret');
  });

  it('RED CASE (red-team 5 R3): an ssh-agent that accepts the connection and never answers: token --agent fails after 10 s naming the step, and exits', async () => {
    const silent = netCreateServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', () => undefined); // reads the request, never answers
    });
    const path = join(dir, 'silent.sock');
    await new Promise<void>((ok) => silent.listen(path, ok));
    try {
      const started = Date.now();
      const r = await cli(['token', '--agent', '--username', 'alice'], { SSH_AUTH_SOCK: path });
      expect([r.code, r.stdout, r.stderr]).toEqual([
        1,
        '',
        `error: --agent: the ssh-agent at ${path} did not answer within 10000 ms when asked to list its keys: is $SSH_AUTH_SOCK the socket of a running ssh-agent? Check it with ssh-add -l, or start one: eval "$(ssh-agent -s)".\n`,
      ]);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      silent.close();
    }
  }, 30_000);

  it('RED CASE (red-team 5 R5): --agent --key FILE where FILE.pub is a FIFO is refused at once, not read', async () => {
    const sub = join(dir, 'fifo-case');
    mkdirSync(sub);
    writeFileSync(join(sub, 'k'), 'not read with --agent\n', { mode: 0o600 });
    execFileSync('mkfifo', [join(sub, 'k.pub')]);
    const started = Date.now();
    const r = await cli(['token', '--agent', '--key', join(sub, 'k'), '--username', 'alice'], {
      SSH_AUTH_SOCK: soloAgent.socket,
    });
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe(
      `error: cannot read the public key ${join(sub, 'k.pub')} for --agent: ${join(sub, 'k.pub')} is not a regular file (a directory, FIFO or device): give the path of the key file itself.\n`,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('RED CASE (red-team 5 R6): --agent --key-id SHA256:… of a key the agent lacks is an error listing its keys, even when the agent holds one key', async () => {
    const wanted = keys.get('ecdsa-p384')!;
    const fingerprint = execFileSync('ssh-keygen', ['-lf', `${wanted.plain}.pub`], {
      encoding: 'utf8',
    }).split(' ')[1];
    for (const keyId of [fingerprint, wanted.keyId]) {
      const r = await cli(['token', '--agent', '--key-id', keyId, '--username', 'alice'], {
        SSH_AUTH_SOCK: soloAgent.socket,
      });
      expect([r.code, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toMatch(
        new RegExp(
          `^error: --agent: no key in the ssh-agent has the fingerprint ${keyId.replace(/[+/]/g, '\\$&')}: ssh-add that key, .* It holds: enc_ed25519@test SHA256:`,
        ),
      );
    }
    // A keyId that is a name, not a fingerprint, still picks the agent's only key.
    const named = await cli(['token', '--agent', '--key-id', 'alice-laptop', '--username', 'alice'], {
      SSH_AUTH_SOCK: soloAgent.socket,
    });
    expect([named.code, named.stderr]).toEqual([0, '']);
  });

  it('RED CASE (red-team 5 R7a, R7b): an aes256-gcm key with a wrong passphrase says so; a chacha20-poly1305 key names the ssh-keygen command that fixes it, and that command works', async () => {
    const gcm = sshKeygen(dir, 'gcm', ['-t', 'ed25519', '-Z', 'aes256-gcm@openssh.com'], PASSPHRASE).file;
    const wrong = await cli(['token', '--key', gcm, '--username', 'alice'], {
      KEYPAIR_AUTH_PASSPHRASE: 'not it',
    });
    expect([wrong.code, wrong.stderr]).toEqual([
      1,
      `error: the passphrase does not decrypt ${gcm}; nothing was signed. Check it (ssh-keygen -y -f ${gcm} asks for it and prints the public key when it is right).\n`,
    ]);
    const right = await cli(['token', '--key', gcm, '--username', 'alice'], {
      KEYPAIR_AUTH_PASSPHRASE: PASSPHRASE,
    });
    expect(right.code).toBe(0);
    const chacha = sshKeygen(
      dir,
      'chacha',
      ['-t', 'ed25519', '-Z', 'chacha20-poly1305@openssh.com'],
      PASSPHRASE,
    ).file;
    const refused = await cli(['token', '--key', chacha, '--username', 'alice'], {
      KEYPAIR_AUTH_PASSPHRASE: PASSPHRASE,
    });
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([
      1,
      '',
      `error: cannot use ${chacha} as --key: This OpenSSH private key is encrypted with chacha20-poly1305@openssh.com, which ssh2 (the library that reads OpenSSH keys here) cannot decrypt: re-encrypt it with a cipher it reads, keeping the passphrase: ssh-keygen -p -Z aes256-ctr -f ${chacha} (or sign through ssh-agent, which reads it).\n`,
    ]);
    execFileSync(
      'ssh-keygen',
      ['-q', '-p', '-P', PASSPHRASE, '-N', PASSPHRASE, '-Z', 'aes256-ctr', '-f', chacha],
      {
        stdio: 'ignore',
      },
    );
    const fixed = await cli(['token', '--key', chacha, '--username', 'alice'], {
      KEYPAIR_AUTH_PASSPHRASE: PASSPHRASE,
    });
    expect([fixed.code, fixed.stdout]).toEqual([0, expect.stringMatching(/^JWT /)]);
  });

  it('--key "~/.ssh/id_ed25519" (quoted, so the shell leaves ~ alone) is read from the home directory', async () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    const { file } = sshKeygen(join(home, '.ssh'), 'id_ed25519', ['-t', 'ed25519']);
    expect((await cli(['keys', 'add', 'alice', `${file}.pub`])).code).toBe(0);
    const r = await cli(['request', 'GET', `${demo.url}/whoami`, '--key', '~/.ssh/id_ed25519'], {
      HOME: home,
    });
    expect([r.code, JSON.parse(r.stdout)]).toEqual([0, expect.objectContaining({ username: 'alice' })]);
  });
});
