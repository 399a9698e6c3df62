import { generateKeyPairSync } from 'node:crypto';
import { signWebBotAuthRequest, webBotAuthDirectory } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * G92 (fourth pass fix): "a directory fetched with a zero lifetime answers the request that
 * fetched it". Concurrent misses share one fetch (directory-cache.ts), but a request that JOINED
 * the fetch in flight compares its own, later, `now` with staleUntil = (fetcher's now) + 0 and is
 * refused WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE "no directory could be fetched" although the fetch
 * it waited on succeeded and holds its key.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 7: a zero-lifetime directory answers every request that shared its fetch', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519');
  let fetches = 0;

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [], signing: 'none' });
    agent.setHandler((_req, res) => {
      fetches++;
      setTimeout(() => {
        res
          .writeHead(200, {
            'content-type': 'application/http-message-signatures-directory+json',
            'cache-control': 'max-age=0',
          })
          .end(JSON.stringify(webBotAuthDirectory([agentKey.privateKey])));
      }, 400);
    });
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: { ca: agent.caPem, allowLoopback: true, minCacheSeconds: 0, staleSeconds: 0 },
        },
      },
    });
    await t.addUser('crawler', ['reader']);
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  const call = async () => {
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { privateKey: agentKey.privateKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    const body = (await res.json()) as { code?: string };
    return `${res.status} ${body.code ?? 'ok'}`;
  };

  it('both requests, sharing one successful fetch, are answered by the directory it brought', async () => {
    const first = call();
    await new Promise((r) => setTimeout(r, 100));
    const second = call();
    const results = await Promise.all([first, second]);
    expect({ fetches, results }).toEqual({ fetches: 1, results: ['200 ok', '200 ok'] });
  });
});
