import { generateKeyPairSync } from 'node:crypto';
import { signWebBotAuthRequest, webBotAuthDirectory } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 3 (docs/web-bot-auth.md "Publish the public key ...: webBotAuthDirectory(publicKeys)
 * from the client SDK, or `keypair-auth web-bot-auth directory --key crawler.key`, gives the JWK
 * Set"; G95 "our directory is what the draft asks for"): the JWK Set the SDK and the CLI produce
 * is unsigned, and a verifier with this module's defaults (directory.signatures 'require', G91)
 * refuses it: an agent that follows the documented steps is refused by this very library,
 * 401 WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 3: the directory the SDK and CLI give an agent to publish', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [], signing: 'none' });
    // Served exactly as the docs say: the SDK's JWK Set, as the directory media type.
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

  it('an agent publishing webBotAuthDirectory() output and signing with signWebBotAuthRequest is accepted', async () => {
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { privateKey: agentKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    const body = (await res.json()) as Record<string, unknown>;
    expect({ status: res.status, who: body.username ?? body.code }).toEqual({ status: 200, who: 'crawler' });
  });
});
