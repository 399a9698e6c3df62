import { generateKeyPairSync } from 'node:crypto';
import { signWebBotAuthRequest, webBotAuthDirectory } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { TOKEN_CONTROLLERS, serverKeys } from '../tokens/token-test-support';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 6 (G94: "An agent acts as its account on the app's routes, not on the account's
 * keys and tokens"). An agent mapped onto an admin account (no role subset, the default)
 * revokes every token of ITS OWN account through POST /admin/users/:username/revoke-tokens.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 6: an agent does not revoke tokens through the token admin API', () => {
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
      globalGuard: true,
      controllers: TOKEN_CONTROLLERS,
      options: {
        origin: SERVICE,
        responseSigning: { keys: serverKeys().keys },
        tokens: {},
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'ops' }],
          directory: { ca: agent.caPem, allowLoopback: true },
        },
      },
    });
    await t.addUser('ops', ['admin']);
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  it('control: the agent is ops with admin', async () => {
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { privateKey: agentKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    expect(await res.json()).toMatchObject({ username: 'ops', method: 'web-bot-auth', roles: ['admin'] });
  });

  it("the agent cannot revoke its account's tokens", async () => {
    const path = '/admin/users/ops/revoke-tokens';
    const { headers } = signWebBotAuthRequest(
      { method: 'POST', url: `${SERVICE}${path}` },
      { privateKey: agentKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}${path}`, { method: 'POST', headers });
    const body = (await res.json()) as Record<string, unknown>;
    expect({ status: res.status, generation: body.generation }).toEqual({
      status: 403,
      generation: undefined,
    });
  });
});
