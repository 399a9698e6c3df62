import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createAuthHeader,
  createSignedFetch,
  createSshAgentSigner,
  createTokenClient,
  OpenSshKeyError,
  parseOpenSshPrivateKey,
  SshAgentError,
} from '../../src/client';
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
