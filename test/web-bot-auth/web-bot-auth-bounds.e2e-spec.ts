import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { signatureHeaders } from 'web-bot-auth';
import { signerFromJWK } from 'web-bot-auth/crypto';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/** The service's configured origin: what every agent signature here names. */
const SERVICE = 'https://wba.example.test';

/**
 * Red team 1 (issue 18): with a `*.` pattern on the allowlist, a client holding no agent key
 * names a new host per request. Each used to create a cache entry (evicting a working
 * directory, which then had to be refetched during its agent's outage) and cost a DNS lookup.
 */
describe('Web Bot Auth: a flood of new hosts under a *. pattern (G90, G92)', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  const attackerKey = generateKeyPairSync('ed25519').privateKey;
  const lookups: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dns = require('node:dns/promises') as {
    lookup: (host: string, options: unknown) => Promise<unknown>;
  };
  const realLookup = dns.lookup;

  beforeAll(async () => {
    agent = await startDirectoryServer({
      keys: [agentKey],
      signing: 'cloudflare',
      cacheControl: 'max-age=3600',
    });
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [
            { origin: agent.origin, username: 'crawler', roles: ['reader'] },
            { origin: 'https://*.agents.invalid', username: 'fleet', roles: ['reader'] },
          ],
          directory: { ca: agent.caPem, allowLoopback: true, maxEntries: 8, maxNewAgentsPerMinute: 5 },
        },
      },
    });
    await t.addUser('crawler', ['reader']);
    await t.addUser('fleet', ['reader']);
    // Counts the resolutions the directory fetcher asks for (it reads `lookup` at each call).
    dns.lookup = (host, options) => {
      lookups.push(host);
      return realLookup(host, options);
    };
  });
  afterAll(async () => {
    dns.lookup = realLookup;
    await t.close();
    await agent.close();
  });

  async function get(key: KeyObject, agentUrl: string) {
    const headers = { 'Signature-Agent': JSON.stringify(agentUrl) };
    const created = Math.floor(Date.now() / 1000);
    const signed = await signatureHeaders(
      new Request(`${SERVICE}/probe/whoami`, { headers }),
      await signerFromJWK(key.export({ format: 'jwk' })),
      { created: new Date(created * 1000), expires: new Date((created + 60) * 1000) },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers: { ...headers, ...signed } });
    return { status: res.status, code: ((await res.json()) as { code?: string }).code };
  }

  it('neither evicts a fresh directory nor costs a DNS lookup per host', async () => {
    expect((await get(agentKey, agent.origin)).status).toBe(200);
    // The agent's host goes down; its directory is fresh for an hour.
    agent.setHandler((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    lookups.length = 0;
    for (let i = 0; i < 40; i += 10) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, j) => get(attackerKey, `https://r${i + j}.agents.invalid`)),
      );
      for (const answer of answers)
        expect(answer).toEqual({ status: 401, code: 'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE' });
    }
    // At most maxNewAgentsPerMinute new hosts of the pattern were looked up in this minute.
    expect(lookups.filter((h) => h.endsWith('.agents.invalid')).length).toBeLessThanOrEqual(5);
    // The agent is still verified from its cached directory, without a fetch.
    const before = agent.requests;
    expect((await get(agentKey, agent.origin)).status).toBe(200);
    expect(agent.requests).toBe(before);
  }, 60_000);
});
