import { generateKeyPairSync } from 'node:crypto';
import { signRequest, signWebBotAuthRequest, webBotAuthDirectory } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 5 (G38 "only a key proof adds a key", G94, G87 "keys come only from the agent's
 * directory"): a Web Bot Auth SecurityContext has keyId = the directory key's thumbprint, and a
 * registry key registered without a keyId has the same keyId (its RFC 7638 thumbprint).
 * keyProofOf looks that id up in the registry without checking revocation or expiry, so an agent
 * whose key the admin REVOKED in the registry (compromised) still adds a new registry key to the
 * account through POST /keys, a key that outlives the directory and the revocation.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 5: an agent request is no key proof, not even for a revoked registry key of the same thumbprint', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  let registryKeyId = '';
  const agentKey = generateKeyPairSync('ed25519');
  const minted = generateKeyPairSync('ed25519');
  const pem = (k: import('node:crypto').KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string;

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
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: { ca: agent.caPem, allowLoopback: true },
        },
      },
    });
    const crawler = await t.addUser('crawler', ['reader']);
    // The same key in the registry too (keyId defaults to its thumbprint), then revoked.
    const view = await t.registry.register(crawler, pem(agentKey.publicKey));
    registryKeyId = view.keyId;
    expect((await t.registry.revoke(view.keyId))?.revokedAt).toBeTruthy();
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  it('control: the agent itself is crawler (reader), and its registry key is revoked', async () => {
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { privateKey: agentKey.privateKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    expect(await res.json()).toMatchObject({ username: 'crawler', method: 'web-bot-auth' });
    const asRegistryKey = signRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { keyId: registryKeyId, privateKey: agentKey.privateKey },
    );
    const refused = await fetch(`${t.server}/probe/whoami`, { headers: asRegistryKey.headers });
    expect(`${refused.status} ${String(((await refused.json()) as { code?: string }).code)}`).toBe(
      '401 KEY_REVOKED',
    );
  });

  it('POST /keys signed as the agent whose registry key is revoked: no key is added', async () => {
    const body = JSON.stringify({ publicKey: pem(minted.publicKey), keyId: 'minted' });
    const { headers } = signWebBotAuthRequest(
      { method: 'POST', url: `${SERVICE}/keys`, headers: { 'content-type': 'application/json' }, body },
      { privateKey: agentKey.privateKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}/keys`, { method: 'POST', headers, body });
    const answer = (await res.json()) as Record<string, unknown>;
    // The minted key then works on its own, with no directory and no expiry.
    const probe = signRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { keyId: 'minted', privateKey: minted.privateKey },
    );
    const after = await fetch(`${t.server}/probe/whoami`, { headers: probe.headers });
    expect({
      register: `${res.status} ${String(answer.code ?? answer.keyId)}`,
      mintedKey: after.status,
    }).toEqual({
      register: '403 WEB_BOT_AUTH_AGENT_FORBIDDEN',
      mintedKey: 401,
    });
  });
});
