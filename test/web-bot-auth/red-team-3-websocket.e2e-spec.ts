import { generateKeyPairSync } from 'node:crypto';
import { signWebBotAuthRequest } from '../../src/client';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';
import { connect, createWsTestApp, FLAVOURS, WsTestApp } from '../websockets/websocket-test-app';

/**
 * Red team 3: a WebSocket handshake authenticated by Web Bot Auth (G74: "the upgrade request is
 * decided by KeypairAuthGuard like any request"; G94: a verified agent acts as its account).
 * The handshake is accepted (101), and the connection's liveness check then looks the agent's
 * thumbprint up among REGISTRY keys (CredentialLiveness.watch, last branch), finds none, and
 * closes the connection at once with 4401 KEY_UNKNOWN_OR_SIGNATURE_INVALID.
 */
const SERVICE = 'https://wba.example.test';

describe.each(FLAVOURS)('Web Bot Auth, red team 3: a WebSocket handshake over %s', (flavour) => {
  let t: WsTestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [agentKey], signing: 'cloudflare' });
    t = await createWsTestApp({
      http: 'express',
      flavour,
      recheckIntervalMs: 200,
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

  it('a Web Bot Auth agent opens a connection and keeps it', async () => {
    const path = new URL(t.handshakeUrl).pathname + new URL(t.handshakeUrl).search;
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: `${SERVICE}${path}` },
      { privateKey: agentKey, agent: agent.origin },
    );
    const result = await connect(t, headers);
    if (!result.open) throw new Error(`refused: ${result.status} ${JSON.stringify(result.body)}`);
    const client = result.client;
    const outcome = await Promise.race([
      client.closed,
      new Promise<'still open'>((r) => setTimeout(() => r('still open'), 1500)),
    ]);
    client.close();
    expect(outcome).toBe('still open');
  });
});
