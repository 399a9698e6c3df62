import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentProtocol, ParsedKey, utils } from 'ssh2';
import { createSignedFetch, createSshAgentSigner } from '../../src/client';
import { describeWithOpenSsh, sshKeygen } from '../support/ssh-tools';

/**
 * An ssh-agent that lies: it lists one key and answers sign requests as `answer` says,
 * over the real agent protocol (ssh2's AgentProtocol in the server role). ssh2's client
 * drops the algorithm name from an agent's answer, so only our check of each signature
 * against the key stands between a wrong answer and the network.
 */
describeWithOpenSsh('RED CASE: a signature from the ssh-agent is checked before it is used', () => {
  let dir: string;
  let server: Server;
  let socket: string;
  let listed: ParsedKey;
  let answer: (data: Buffer) => Buffer;

  function parsed(file: string): ParsedKey {
    const key = utils.parseKey(readFileSync(file));
    if (key instanceof Error || Array.isArray(key)) throw new Error('unexpected key');
    return key;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-fake-agent-'));
    socket = join(dir, 'fake.sock');
    server = createServer((connection) => {
      const protocol = new AgentProtocol(false);
      protocol.on('identities', (req) => protocol.getIdentitiesReply(req, [listed]));
      protocol.on('sign', (req, _key: unknown, data: Buffer) => protocol.signReply(req, answer(data)));
      connection.pipe(protocol).pipe(connection);
    });
    await new Promise<void>((ok) => server.listen(socket, ok));
  });
  afterAll(async () => {
    await new Promise<void>((ok) => server.close(() => ok()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('an answer signed with another key, or with SHA-1 for an RSA key, is refused and nothing is sent; the right answer is used', async () => {
    const mine = parsed(sshKeygen(dir, 'mine', ['-t', 'ed25519']).file);
    const other = parsed(sshKeygen(dir, 'other', ['-t', 'ed25519']).file);
    listed = mine;
    let sent = 0;
    const countingFetch: typeof fetch = () => {
      sent++;
      return Promise.resolve(new Response('{}'));
    };
    const signedFetch = createSignedFetch({
      keyId: 'k',
      signer: createSshAgentSigner({ socketPath: socket }),
      fetch: countingFetch,
    });

    answer = (data) => other.sign(data);
    await expect(signedFetch('https://api.example/whoami')).rejects.toMatchObject({
      code: 'AGENT_SIGN_FAILED',
      message: expect.stringContaining('does not verify'),
    });
    expect(sent).toBe(0);

    const rsa = parsed(sshKeygen(dir, 'rsa', ['-t', 'rsa', '-b', '2048']).file);
    listed = rsa;
    answer = (data) => rsa.sign(data, 'sha1');
    const rsaSigner = createSshAgentSigner({ socketPath: socket });
    await expect(rsaSigner.sign('rsa-v1_5-sha256', Buffer.from('x'))).rejects.toMatchObject({
      code: 'AGENT_SIGN_FAILED',
    });
    answer = (data) => rsa.sign(data, 'sha256');
    expect((await rsaSigner.sign('rsa-v1_5-sha256', Buffer.from('x'))).length).toBe(256);

    listed = mine;
    answer = (data) => mine.sign(data);
    await signedFetch('https://api.example/whoami');
    expect(sent).toBe(1);
  });
});
