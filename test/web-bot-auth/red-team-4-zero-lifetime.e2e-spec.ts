import { generateKeyPairSync } from 'node:crypto';
import { agentGet, startAgentApp, type AgentApp } from './support/agent-app';

/**
 * Red team 4, G92 ("a directory is reused for its Cache-Control max-age clamped to
 * [minCacheSeconds, maxCacheSeconds]"): with minCacheSeconds 0 and staleSeconds 0 (both inside
 * their documented bounds) and a directory served with max-age=0 (or no-store), a fetch that
 * succeeds and lists the key is still refused: load() sets freshUntil = staleUntil = now and
 * refresh() asks now < staleUntil, so every request fetches the directory and is then refused
 * 401 WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE "no directory could be fetched" (a misleading code: the
 * fetch worked). The control, max-age=60, is accepted.
 */
describe('Web Bot Auth, red team 4: a directory fetched just now, with a zero lifetime', () => {
  let a: AgentApp;
  const agentKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    a = await startAgentApp({
      keys: [agentKey],
      signing: 'draft',
      cacheControl: 'max-age=0',
      directory: { minCacheSeconds: 0, staleSeconds: 0 },
    });
  });
  afterAll(() => a.close());

  it('a request whose key the directory just answered with is accepted', async () => {
    const got = await agentGet(a.t, '/probe/whoami', { key: agentKey, agent: a.agent.origin });
    expect(got).toEqual({ status: 200, who: 'crawler' });
  });
});
