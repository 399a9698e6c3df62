import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { signRequest } from '../../src/client';
import { testKey } from '../support/keys';
import { DemoProcess, DIST_CLI, startDemo } from '../support/processes';

/**
 * The demo's `/ws` gateway: the handshake is authenticated by KeypairAuthWsAdapter
 * (src/websockets), then a `whoami` message is answered with the JSON of `GET /whoami`.
 */
describe('demo /ws gateway: whoami over an authenticated handshake', () => {
  const alice = testKey('ed25519', 0);
  let dir: string;
  let demo: DemoProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-demo-ws-'));
    const env = { DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}` };
    demo = await startDemo(env);
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [DIST_CLI, ...args], { cwd: dir, env: { ...process.env, ...env } });
    writeFileSync(join(dir, 'alice.pub'), alice.publicPem);
    cli('users', 'add', 'alice', '--roles', 'reader,admin');
    cli('keys', 'add', 'alice', 'alice.pub', '--key-id', 'alice-laptop');
  });
  afterAll(async () => {
    await demo?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens /ws with `headers` on the upgrade, sends `whoami`, and returns the answer or the refusal status. */
  function whoami(headers: Record<string, string>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${demo.url.replace('http', 'ws')}/ws`, { headers });
      socket.on('open', () => socket.send(JSON.stringify({ event: 'whoami', data: {} })));
      socket.on('message', (data: Buffer) => {
        resolve(JSON.parse(data.toString()));
        socket.close();
      });
      socket.on('unexpected-response', (_req, res) => resolve({ refused: res.statusCode }));
      socket.on('error', reject);
    });
  }

  it('a signed handshake gets the identity of GET /whoami for the same key; an unsigned one is refused', async () => {
    const sign = () =>
      signRequest(
        { method: 'GET', url: `${demo.url}/ws` },
        { keyId: 'alice-laptop', privateKey: alice.privateKey },
      ).headers;
    const rest = (await (
      await fetch(`${demo.url}/whoami`, {
        headers: signRequest(
          { method: 'GET', url: `${demo.url}/whoami` },
          { keyId: 'alice-laptop', privateKey: alice.privateKey },
        ).headers,
      })
    ).json()) as unknown;
    expect(await whoami(sign())).toEqual({ event: 'whoami', data: rest });
    expect(await whoami({})).toEqual({ refused: 401 });
  });
});
