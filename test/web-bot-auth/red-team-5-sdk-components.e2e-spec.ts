import { generateKeyPairSync } from 'node:crypto';
import { signWebBotAuthRequest, webBotAuthDirectory } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 5 (G95): signWebBotAuthRequest's `components` option ("covered components besides
 * the Signature-Agent member, which is always covered last") takes "signature-agent" too; the
 * SDK then covers the member twice and the verifier refuses: the SDK should refuse the option
 * or cover it once.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 5: the SDK refuses components that name Signature-Agent', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [], signing: 'none' });
    agent.setHandler((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/http-message-signatures-directory+json' })
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

  it('components naming signature-agent: the SDK refuses them (it covers the member itself)', async () => {
    let outcome: string;
    try {
      const { headers } = signWebBotAuthRequest(
        { method: 'GET', url: `${SERVICE}/probe/whoami` },
        {
          privateKey: agentKey,
          agent: agent.origin,
          components: ['@method', '@authority', '@path', 'signature-agent'],
        },
      );
      const res = await fetch(`${t.server}/probe/whoami`, { headers });
      const body = (await res.json()) as Record<string, unknown>;
      outcome = `${res.status} ${String(body.username ?? body.code)}`;
    } catch (error) {
      outcome = `sdk refused: ${(error as Error).name}`;
    }
    expect(outcome).toBe('sdk refused: TypeError');
  });
});
