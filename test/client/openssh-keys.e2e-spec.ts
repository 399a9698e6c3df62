import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createAuthHeader,
  createSignedFetch,
  createSshAgentSigner,
  createTokenClient,
  KeyFileError,
  OpenSshKeyError,
  parseOpenSshPrivateKey,
  SshAgentError,
} from '../../src/client';
import { parsePublicKey } from '../../src/keys/formats/public-key-parser';
import { DemoProcess, DIST_CLI, startDemo } from '../support/processes';
import { describeWithOpenSsh, SSH_KEY_TYPES, SshAgent, sshKeygen, startSshAgent } from '../support/ssh-tools';

/**
 * The client SDK with keys made by ssh-keygen (files, with and without a passphrase) and
 * through a real ssh-agent, against the built demo server (`npm run build` first). Keys are
 * registered from their .pub line by the built CLI.
 */

const PASSPHRASE = 'sdk passphrase 91c2';

describeWithOpenSsh('client SDK with OpenSSH keys and ssh-agent, against the demo', () => {
  let dir: string;
  let demo: DemoProcess;
  let agent: SshAgent;
  const keys = new Map<string, { plain: string; encrypted: string; keyId: string; encryptedKeyId: string }>();

  function cli(...args: string[]): string {
    return execFileSync(process.execPath, [DIST_CLI, ...args], {
      env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}` },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  }

  /** A fetch that counts the requests that reach the network. */
  let sent = 0;
  const countingFetch: typeof fetch = (input, init) => {
    sent++;
    return fetch(input, init);
  };

  async function whoami(authorization: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${demo.url}/whoami`, { headers: { authorization } });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-openssh-sdk-'));
    demo = await startDemo({ DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}` });
    cli('users', 'add', 'bob', '--roles', 'reader');
    agent = await startSshAgent(dir);
    for (const type of SSH_KEY_TYPES) {
      const plain = sshKeygen(dir, `id_${type.name}`, type.args);
      const encrypted = sshKeygen(dir, `enc_${type.name}`, type.args, PASSPHRASE);
      keys.set(type.name, {
        plain: plain.file,
        encrypted: encrypted.file,
        keyId: cli('keys', 'add', 'bob', `${plain.file}.pub`),
        encryptedKeyId: cli('keys', 'add', 'bob', `${encrypted.file}.pub`),
      });
      agent.add(plain.file);
    }
  }, 120_000);

  afterAll(async () => {
    await agent?.stop();
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(SSH_KEY_TYPES.map((t) => t.name))(
    '%s: createAuthHeader and createSignedFetch (RFC 9421) sign with the ssh-keygen key file, plain and encrypted',
    async (name) => {
      const key = keys.get(name)!;
      for (const [keyFile, keyPassword, keyId] of [
        [key.plain, undefined, key.keyId],
        [key.encrypted, PASSPHRASE, key.encryptedKeyId],
      ] as const) {
        const header = await createAuthHeader({ username: 'bob', keyFile, keyPassword, keyId });
        expect(await whoami(header)).toMatchObject({ username: 'bob', keyId, method: 'jwt' });
        const signedFetch = createSignedFetch({ keyId, keyFile, keyPassword });
        const res = await signedFetch(`${demo.url}/whoami`);
        expect([res.status, await res.json()]).toEqual([
          200,
          expect.objectContaining({ keyId, method: 'http-signature-rfc9421' }),
        ]);
      }
      // The key text itself works too (privateKey: the OpenSSH file's content).
      const text = readFileSync(key.encrypted, 'utf8');
      const header = await createAuthHeader({
        username: 'bob',
        privateKey: text,
        keyPassword: PASSPHRASE,
        keyId: key.encryptedKeyId,
      });
      expect(await whoami(header)).toMatchObject({ keyId: key.encryptedKeyId });
    },
  );

  it.each(SSH_KEY_TYPES.map((t) => t.name))(
    '%s through ssh-agent (createSshAgentSigner): JWT, RFC 9421, Cavage and the challenge login are accepted',
    async (name) => {
      const key = keys.get(name)!;
      const signer = createSshAgentSigner({
        socketPath: agent.socket,
        publicKey: readFileSync(`${key.plain}.pub`, 'utf8'),
      });
      expect((await signer.identity()).keyId).toBe(key.keyId);
      const header = await createAuthHeader({ username: 'bob', signer, keyId: key.keyId });
      expect(await whoami(header)).toMatchObject({ keyId: key.keyId, method: 'jwt' });
      for (const [format, method] of [
        ['rfc9421', 'http-signature-rfc9421'],
        ['cavage', 'http-signature-cavage'],
      ] as const) {
        const signedFetch = createSignedFetch({ keyId: key.keyId, signer, format });
        const res = await signedFetch(`${demo.url}/echo`, {
          method: 'POST',
          body: '{"n":1}',
          headers: { 'content-type': 'application/json' },
        });
        expect([method, res.status, await res.text()]).toEqual([method, 200, '{"n":1}']);
      }
      const client = createTokenClient({ baseUrl: demo.url, keyId: key.keyId, signer });
      await client.login();
      const res = await client.fetch(`${demo.url}/whoami`);
      expect([res.status, await res.json()]).toEqual([200, expect.objectContaining({ keyId: key.keyId })]);
      const signedLogin = createTokenClient({
        baseUrl: demo.url,
        keyId: key.keyId,
        signer,
        login: 'signed-request',
      });
      expect((await signedLogin.login()).accessToken).toEqual(expect.any(String));
    },
  );

  it('an RSA key registered for rsa-v1_5-sha512 is signed by the agent with rsa-sha2-512 (JWT RS512, RFC 9421)', async () => {
    const { file } = sshKeygen(dir, 'id_rsa512', ['-t', 'rsa', '-b', '3072']);
    const keyId = cli('keys', 'add', 'bob', `${file}.pub`, '--alg', 'rsa-v1_5-sha512');
    agent.add(file);
    const signer = createSshAgentSigner({ socketPath: agent.socket, keyId });
    const header = await createAuthHeader({ username: 'bob', signer, keyId, algorithm: 'rsa-v1_5-sha512' });
    expect(JSON.parse(Buffer.from(header.split('.')[0].slice(4), 'base64url').toString())).toMatchObject({
      alg: 'RS512',
    });
    expect(await whoami(header)).toMatchObject({ keyId, method: 'jwt' });
    const signedFetch = createSignedFetch({ keyId, signer, algorithm: 'rsa-v1_5-sha512' });
    const res = await signedFetch(`${demo.url}/whoami`);
    expect([res.status, await res.json()]).toEqual([200, expect.objectContaining({ keyId })]);
    // The same key signed with SHA-256 is refused: the server uses the stored algorithm.
    const wrongAlg = createSignedFetch({ keyId, signer, algorithm: 'rsa-v1_5-sha256' });
    expect((await wrongAlg(`${demo.url}/whoami`)).status).toBe(401);
  });

  it('G59: a missing or wrong passphrase, or a DSA key, throws OpenSshKeyError naming the fix, before anything is sent', async () => {
    const encrypted = keys.get('ed25519')!.encrypted;
    const attempt = async (options: { keyFile: string; keyPassword?: string }) => {
      try {
        const signedFetch = createSignedFetch({ keyId: 'k', fetch: countingFetch, ...options });
        await signedFetch(`${demo.url}/whoami`);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(await attempt({ keyFile: encrypted })).toEqual(
      new OpenSshKeyError(
        'OPENSSH_PASSPHRASE_REQUIRED',
        'This OpenSSH private key is encrypted: supply its passphrase.',
      ),
    );
    const wrong = await attempt({ keyFile: encrypted, keyPassword: 'wrong' });
    expect(wrong).toBeInstanceOf(OpenSshKeyError);
    expect(wrong).toMatchObject({
      code: 'OPENSSH_PASSPHRASE_WRONG',
      message: expect.stringContaining('ssh-keygen -y -f'),
    });
    expect(sent).toBe(0);
    expect(() => parseOpenSshPrivateKey(readFileSync(encrypted), 'wrong')).toThrow(OpenSshKeyError);
    let dsa: string | undefined;
    try {
      dsa = sshKeygen(dir, 'id_dsa', ['-t', 'dsa']).file;
    } catch {
      // this OpenSSH build no longer makes DSA keys
    }
    if (dsa)
      expect(await attempt({ keyFile: dsa })).toMatchObject({
        code: 'OPENSSH_KEY_TYPE_UNSUPPORTED',
        message: expect.stringContaining('DSA (ssh-dss) keys cannot sign here'),
      });
    expect(sent).toBe(0);
  });

  it('an agent signer that cannot choose a key, or finds no agent, throws SshAgentError listing the keys', async () => {
    await expect(createSshAgentSigner({ socketPath: agent.socket }).publicKey()).rejects.toMatchObject({
      code: 'AGENT_KEY_NOT_FOUND',
      message: expect.stringMatching(/holds 5 keys.*id_rsa-3072@test SHA256:/),
    });
    await expect(
      createSshAgentSigner({ socketPath: join(dir, 'none.sock') }).publicKey(),
    ).rejects.toBeInstanceOf(SshAgentError);
    expect(() =>
      createTokenClient({ baseUrl: demo.url, keyId: 'k', signer: createSshAgentSigner(), dpop: true }),
    ).toThrow(/dpop: true needs the private key/);
    // An RSA agent key cannot sign RSA-PSS (an agent signs PKCS#1 v1.5 only): refused, nothing sent.
    const rsa = createSshAgentSigner({ socketPath: agent.socket, keyId: keys.get('rsa-3072')!.keyId });
    await expect(rsa.sign('rsa-pss-sha512', Buffer.from('x'))).rejects.toMatchObject({
      code: 'AGENT_ALGORITHM_UNSUPPORTED',
    });
  });
});

describeWithOpenSsh('client SDK: an ssh-agent that does not answer, and key files that are not files', () => {
  let dir: string;
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'kpa-agent-hang-'))));
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fake agent on a socket of its own: `answer` gets each request (type byte) and writes what it wants. */
  async function fakeAgent(name: string, answer: (type: number, socket: Socket) => void): Promise<string> {
    const path = join(dir, `${name}.sock`);
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined); // the client closing on us (ECONNRESET) is expected
      socket.on('data', (data) => answer(data[4], socket));
    });
    servers.push(server);
    await new Promise<void>((ok) => server.listen(path, ok));
    return path;
  }
  const wire = (b: Buffer) =>
    Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (b.length >>> (24 - 8 * i)) & 255)), b]);
  const settleWithin = <T>(p: Promise<T>, ms: number) =>
    Promise.race([
      p.then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      new Promise((ok) => setTimeout(() => ok('still pending'), ms).unref()),
    ]);

  it('RED CASE (red-team 5 R3): an agent that never answers, or sends a truncated or huge answer, fails with AGENT_TIMEOUT / AGENT_ANSWER_TOO_LARGE naming the step, and its socket is closed', async () => {
    const silent = await fakeAgent('silent', () => undefined);
    const started = Date.now();
    const listing = await settleWithin(
      createSshAgentSigner({ socketPath: silent, timeoutMs: 300 }).identity(),
      5_000,
    );
    expect(listing).toBeInstanceOf(SshAgentError);
    expect(listing).toMatchObject({
      code: 'AGENT_TIMEOUT',
      message: `the ssh-agent at ${silent} did not answer within 300 ms when asked to list its keys: is $SSH_AUTH_SOCK the socket of a running ssh-agent? Check it with ssh-add -l, or start one: eval "$(ssh-agent -s)".`,
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(
      await settleWithin(
        createAuthHeader({
          username: 'a',
          keyId: 'k',
          signer: createSshAgentSigner({ socketPath: silent, timeoutMs: 300 }),
        }),
        5_000,
      ),
    ).toMatchObject({ code: 'AGENT_TIMEOUT' });
    // The fake agent's side of every connection was closed by the client.
    await new Promise((ok) => setTimeout(ok, 100));
    expect(sockets.filter((s) => !s.destroyed && !s.readableEnded)).toEqual([]);

    // A length header announcing more than follows (truncated), and one announcing 4 GB.
    const truncated = await fakeAgent('truncated', (_t, s) => s.write(Buffer.from([0, 0, 0, 100, 12, 0])));
    expect(
      await settleWithin(createSshAgentSigner({ socketPath: truncated, timeoutMs: 300 }).identity(), 5_000),
    ).toMatchObject({
      code: 'AGENT_TIMEOUT',
    });
    const huge = await fakeAgent('huge', (_t, s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 12])));
    expect(await settleWithin(createSshAgentSigner({ socketPath: huge }).identity(), 5_000)).toMatchObject({
      code: 'AGENT_ANSWER_TOO_LARGE',
    });
    const flood = await fakeAgent('flood', (_t, s) => {
      s.write(Buffer.from([0, 0x10, 0, 0, 12]));
      s.write(Buffer.alloc(300 * 1024));
    });
    expect(await settleWithin(createSshAgentSigner({ socketPath: flood }).identity(), 5_000)).toMatchObject({
      code: 'AGENT_ANSWER_TOO_LARGE',
    });

    // An agent that lists a key and never answers the signature request.
    const { file } = sshKeygen(dir, 'listed', ['-t', 'ed25519']);
    const blob = Buffer.from(readFileSync(`${file}.pub`, 'utf8').split(' ')[1], 'base64');
    const signHang = await fakeAgent('sign-hang', (type, s) => {
      if (type === 11)
        s.write(wire(Buffer.concat([Buffer.from([12, 0, 0, 0, 1]), wire(blob), wire(Buffer.from('c'))])));
    });
    const signer = createSshAgentSigner({ socketPath: signHang, timeoutMs: 300 });
    expect((await signer.identity()).comment).toBe('c');
    const signing = await settleWithin(createAuthHeader({ username: 'a', keyId: 'k', signer }), 5_000);
    expect(signing).toMatchObject({
      code: 'AGENT_TIMEOUT',
      message: expect.stringMatching(
        /did not answer within 300 ms when asked to sign with SHA256:[\w+/]{43}: is it waiting for a confirmation \(ssh-add -c\)/,
      ),
    });
    for (const timeoutMs of [0, -1, 1.5, Number.NaN, 600_001])
      expect(() => createSshAgentSigner({ timeoutMs })).toThrow(
        /timeoutMs must be a whole number of milliseconds from 1 to 600000/,
      );
  }, 30_000);

  it('RED CASE (red-team 5 R5): keyFile naming a FIFO, a directory or a file over 64 KB throws KeyFileError at once, without blocking', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const big = join(dir, 'big');
    writeFileSync(big, Buffer.alloc(65 * 1024, 65));
    for (const [keyFile, code] of [
      [fifo, 'KEY_FILE_NOT_REGULAR'],
      [dir, 'KEY_FILE_NOT_REGULAR'],
      [big, 'KEY_FILE_TOO_LARGE'],
      [join(dir, 'none'), 'KEY_FILE_MISSING'],
    ]) {
      const started = Date.now();
      await expect(createAuthHeader({ username: 'a', keyFile })).rejects.toMatchObject({
        name: 'KeyFileError',
        code,
      });
      expect(Date.now() - started).toBeLessThan(1_000);
    }
    await expect(createAuthHeader({ username: 'a', keyFile: fifo })).rejects.toBeInstanceOf(KeyFileError);
  });

  it('RED CASE (red-team 5 R6): a fingerprint keyId (SHA256:…, JWK thumbprint, hex SHA-256) of a key the agent lacks is AGENT_KEY_NOT_FOUND, even when the agent holds one key; a name picks that key', async () => {
    const agent = await startSshAgent(dir, 'one-key');
    try {
      const held = sshKeygen(dir, 'held', ['-t', 'ed25519']);
      agent.add(held.file);
      const wanted = sshKeygen(dir, 'wanted', ['-t', 'ecdsa', '-b', '384']);
      const wantedKey = parsePublicKey(wanted.pub);
      const sshFingerprint = execFileSync('ssh-keygen', ['-lf', `${wanted.file}.pub`], {
        encoding: 'utf8',
      }).split(' ')[1];
      for (const keyId of [sshFingerprint, wantedKey.thumbprint, wantedKey.pemSha256]) {
        const signer = createSshAgentSigner({ socketPath: agent.socket, keyId });
        await expect(createAuthHeader({ username: 'a', keyId, signer })).rejects.toMatchObject({
          code: 'AGENT_KEY_NOT_FOUND',
          message: expect.stringMatching(
            new RegExp(
              `^no key in the ssh-agent has the fingerprint ${keyId.replace(/[+/]/g, '\\$&')}: .* It holds: held@test SHA256:`,
            ),
          ),
        });
      }
      const named = createSshAgentSigner({ socketPath: agent.socket, keyId: 'alice-laptop' });
      expect((await named.identity()).comment).toBe('held@test');
    } finally {
      await agent.stop();
    }
  });
});
