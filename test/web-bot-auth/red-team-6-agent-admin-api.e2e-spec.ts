import { generateKeyPairSync } from 'node:crypto';
import { signRequest, signWebBotAuthRequest, webBotAuthDirectory } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 6 (G94: "An agent acts as its account on the app's routes, not on the account's
 * keys and tokens: its request is no key proof ... it cannot add keys"). The refusals were
 * added to the self-service /keys controller only. An agent mapped onto an admin account
 * (no role subset: "all of the account's roles", the default) reaches the admin API and
 * registers a permanent registry key on ITS OWN account, revokes the account's keys, and
 * revokes its tokens. The added key then authenticates without the agent's directory.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 6: an agent does not manage keys through the admin API, admin role or not', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  const adminKey = generateKeyPairSync('ed25519');
  const minted = generateKeyPairSync('ed25519');

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
          agents: [{ origin: agent.origin, username: 'ops' }],
          directory: { ca: agent.caPem, allowLoopback: true },
        },
      },
    });
    const ops = await t.addUser('ops', ['admin', 'reader']);
    await t.registry.register(ops, adminKey.publicKey.export({ type: 'spki', format: 'pem' }) as string, {
      keyId: 'ops-admin',
    });
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  async function asAgent(method: string, path: string, body?: unknown) {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const { headers } = signWebBotAuthRequest(
      {
        method,
        url: `${SERVICE}${path}`,
        headers: text ? { 'content-type': 'application/json' } : {},
        body: text,
      },
      { privateKey: agentKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}${path}`, { method, headers, body: text });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  async function asKey(keyId: string, privateKey: typeof adminKey.privateKey) {
    const { headers } = signRequest({ method: 'GET', url: `${SERVICE}/probe/whoami` }, { keyId, privateKey });
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    return { status: res.status, body: await res.json().catch(() => null) };
  }

  it('control: the agent is ops (method web-bot-auth); self-service /keys refuses it', async () => {
    expect((await asAgent('GET', '/probe/whoami')).body).toMatchObject({
      username: 'ops',
      method: 'web-bot-auth',
    });
    expect((await asAgent('GET', '/keys')).status).toBe(403);
  });

  it('the agent cannot list its account keys through GET /admin/users/ops/keys', async () => {
    const res = await asAgent('GET', '/admin/users/ops/keys');
    expect(res.status).toBe(403);
  });

  it('the agent cannot add a registry key to its own account through the admin API', async () => {
    const jwk = minted.publicKey.export({ format: 'jwk' });
    const res = await asAgent('POST', '/admin/users/ops/keys', { publicKey: jwk });
    const keyId = (res.body as { keyId?: string } | null)?.keyId;
    const usable = keyId ? (await asKey(keyId, minted.privateKey)).status : null;
    expect({ add: res.status, mintedKeyWorks: usable }).toEqual({ add: 403, mintedKeyWorks: null });
  });

  it("the agent cannot revoke its account's admin key through DELETE /admin/keys/:keyId", async () => {
    const res = await asAgent('DELETE', '/admin/keys/ops-admin');
    const after = await asKey('ops-admin', adminKey.privateKey);
    expect({ revoke: res.status, adminKeyAfter: after.status }).toEqual({ revoke: 403, adminKeyAfter: 200 });
  });
});
