import { generateKeyPairSync } from 'node:crypto';
import { signRequest, signWebBotAuthRequest, webBotAuthDirectory } from '../../src/client';
import { SERVICE, startAgentApp, type AgentApp } from './support/agent-app';

/**
 * Red team 5 (G94 "a verified agent acts as its mapped account, with its role subset"; G13
 * "effective roles are account roles ∩ the credential's subset"): an agent limited to role
 * `reader` lists the account's registry keys and revokes its `admin` key through self-service
 * DELETE /keys/:keyId, which needs no role and no key proof. The agent's credential comes from
 * a directory on a host the account's owner does not run (a `*.` pattern: any host under it).
 */
describe('Web Bot Auth, red team 5: an agent does not manage its account keys', () => {
  let t: AgentApp['t'];
  let agent: AgentApp['agent'];
  let close: AgentApp['close'];
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  const adminKey = generateKeyPairSync('ed25519');

  beforeAll(async () => {
    let ops: AgentApp['user'];
    ({
      t,
      agent,
      user: ops,
      close,
    } = await startAgentApp({
      keys: [],
      signing: 'none',
      username: 'ops',
      roles: ['reader'],
      userRoles: ['admin', 'reader'],
    }));
    agent.setHandler((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/http-message-signatures-directory+json' })
        .end(JSON.stringify(webBotAuthDirectory([agentKey])));
    });
    await t.registry.register(ops, adminKey.publicKey.export({ type: 'spki', format: 'pem' }) as string, {
      keyId: 'ops-admin',
    });
  });
  afterAll(() => close());

  async function asAgent(method: string, path: string): Promise<{ status: number; body: unknown }> {
    const { headers } = signWebBotAuthRequest(
      { method, url: `${SERVICE}${path}` },
      { privateKey: agentKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}${path}`, { method, headers });
    return { status: res.status, body: await res.json() };
  }

  async function asAdminKey(path: string): Promise<{ status: number; body: unknown }> {
    const { headers } = signRequest(
      { method: 'GET', url: `${SERVICE}${path}` },
      { keyId: 'ops-admin', privateKey: adminKey.privateKey },
    );
    const res = await fetch(`${t.server}${path}`, { headers });
    return { status: res.status, body: await res.json() };
  }

  it('control: the agent is ops with role reader only; the admin key works', async () => {
    expect((await asAgent('GET', '/probe/whoami')).body).toMatchObject({
      username: 'ops',
      roles: ['reader'],
    });
    expect((await asAdminKey('/probe/whoami')).status).toBe(200);
  });

  it('the reader-limited agent cannot revoke the account admin key', async () => {
    const revoke = await asAgent('DELETE', '/keys/ops-admin');
    const after = await asAdminKey('/probe/whoami');
    expect({ revoke: revoke.status, adminKeyAfter: after.status }).toEqual({
      revoke: 403,
      adminKeyAfter: 200,
    });
  });
});
