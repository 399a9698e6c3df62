import { generateKeyPairSync } from 'node:crypto';
import { signWebBotAuthRequest, webBotAuthDirectory } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 5 (G95 "the SDK signs with ... a nonce", G93 "an empty nonce is no nonce (401
 * MALFORMED_CREDENTIALS)", nonces over 256 characters likewise): signWebBotAuthRequest takes
 * any printable `nonce` string, including '' and 300 characters, and signs a request this
 * library's own verifier refuses. The SDK should refuse the option (TypeError) as it refuses
 * a bad label, created or expiresIn, or the server should accept what the SDK signs.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 5: the SDK refuses a nonce the verifier would refuse', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [], signing: 'none' });
    agent.setHandler((_req, res) => {
      res
        .writeHead(200, {
          'content-type': 'application/http-message-signatures-directory+json',
          'cache-control': 'max-age=300',
        })
        .end(JSON.stringify(webBotAuthDirectory([agentKey])));
    });
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: { ca: agent.caPem, allowLoopback: true },
        },
      },
    });
    await t.addUser('crawler', ['reader']);
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  async function send(nonce: string | undefined): Promise<string> {
    let headers: Record<string, string>;
    try {
      headers = signWebBotAuthRequest(
        { method: 'GET', url: `${SERVICE}/probe/whoami` },
        { privateKey: agentKey, agent: agent.origin, ...(nonce !== undefined ? { nonce } : {}) },
      ).headers;
    } catch (error) {
      return `sdk refused: ${(error as Error).name}`;
    }
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    const body = (await res.json()) as Record<string, unknown>;
    return `${res.status} ${String(body.username ?? body.code)}`;
  }

  it('control: the default nonce is accepted', async () => {
    expect(await send(undefined)).toBe('200 crawler');
  });

  it.each([
    ['empty nonce', ''],
    ['300-character nonce', 'n'.repeat(300)],
  ])('%s: the SDK refuses it (the verifier would)', async (_name, nonce) => {
    const outcome = await send(nonce);
    expect(outcome).toBe('sdk refused: TypeError');
  });
});
