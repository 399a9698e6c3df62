import { generateKeyPairSync } from 'node:crypto';
import { signWebBotAuthRequest, webBotAuthDirectory } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { TOKEN_CONTROLLERS, serverKeys } from '../tokens/token-test-support';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 5 (as red5-agent-key-proof, through the token API): POST /auth/token signed as a
 * Web Bot Auth agent whose key is also a REVOKED registry key of the account (keyId = thumbprint)
 * is taken as a key proof (proveWithContext → keyProofOf, no revocation check).
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 5: an agent gets no tokens', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [], signing: 'none' });
    agent.setHandler((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/http-message-signatures-directory+json' })
        .end(JSON.stringify(webBotAuthDirectory([agentKey.privateKey])));
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
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: { ca: agent.caPem, allowLoopback: true },
        },
      },
    });
    const crawler = await t.addUser('crawler', ['reader']);
    const view = await t.registry.register(
      crawler,
      agentKey.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    );
    expect((await t.registry.revoke(view.keyId))?.revokedAt).toBeTruthy();
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  it('no tokens are issued on the strength of a revoked registry key', async () => {
    const body = '{}';
    const { headers } = signWebBotAuthRequest(
      { method: 'POST', url: `${SERVICE}/auth/token`, headers: { 'content-type': 'application/json' }, body },
      { privateKey: agentKey.privateKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}/auth/token`, { method: 'POST', headers, body });
    const answer = (await res.json()) as Record<string, unknown>;
    let bearer = 'n/a';
    if (typeof answer.accessToken === 'string' || typeof answer.access_token === 'string') {
      const token = (answer.accessToken ?? answer.access_token) as string;
      const who = await fetch(`${t.server}/probe/whoami`, { headers: { authorization: `Bearer ${token}` } });
      bearer = `${who.status}`;
    }
    expect({ token: `${res.status} ${String(answer.code ?? 'issued')}`, bearer }).toEqual({
      token: '401 KEY_PROOF_REQUIRED',
      bearer: 'n/a',
    });
  });
});
