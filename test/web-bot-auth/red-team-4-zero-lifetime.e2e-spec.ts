import { generateKeyPairSync } from 'node:crypto';
import { signWebBotAuthRequest } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 4, G92 ("a directory is reused for its Cache-Control max-age clamped to
 * [minCacheSeconds, maxCacheSeconds]"): with minCacheSeconds 0 and staleSeconds 0 (both inside
 * their documented bounds) and a directory served with max-age=0 (or no-store), a fetch that
 * succeeds and lists the key is still refused: load() sets freshUntil = staleUntil = now and
 * refresh() asks now < staleUntil, so every request fetches the directory and is then refused
 * 401 WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE "no directory could be fetched" (a misleading code: the
 * fetch worked). The control, max-age=60, is accepted.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 4: a directory fetched just now, with a zero lifetime', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [agentKey], signing: 'draft', cacheControl: 'max-age=0' });
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: { ca: agent.caPem, allowLoopback: true, minCacheSeconds: 0, staleSeconds: 0 } as never,
        },
      },
    });
    await t.addUser('crawler', ['reader']);
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  it('a request whose key the directory just answered with is accepted', async () => {
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { privateKey: agentKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    const body = (await res.json()) as Record<string, unknown>;
    expect({ status: res.status, who: body.username ?? body.code }).toEqual({ status: 200, who: 'crawler' });
  });
});
