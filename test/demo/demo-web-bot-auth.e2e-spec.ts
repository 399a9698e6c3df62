import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signatureHeaders } from 'web-bot-auth';
import { signerFromJWK } from 'web-bot-auth/crypto';
import { DemoProcess, startDemo } from '../support/processes';
import { DirectoryServer, startDirectoryServer } from '../web-bot-auth/support/directory-server';

/**
 * `npm start` with WEB_BOT_AUTH_AGENTS: a crawler signing with Cloudflare's web-bot-auth,
 * its directory on a local HTTPS server whose CA is WEB_BOT_AUTH_CA, is the `crawler`
 * account with role `reader` on every route.
 */
/** What agents call the demo (PUBLIC_ORIGIN): the authority they sign. */
const ORIGIN = 'https://demo.example.test';

describe('demo: Web Bot Auth agents from WEB_BOT_AUTH_AGENTS', () => {
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  let dir: string;
  let agent: DirectoryServer;
  let demo: DemoProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kpa-demo-wba-'));
    agent = await startDirectoryServer({ keys: [agentKey], signing: 'draft' });
    writeFileSync(join(dir, 'agents-ca.pem'), agent.caPem);
    demo = await startDemo({
      DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`,
      WEB_BOT_AUTH_AGENTS: agent.origin,
      WEB_BOT_AUTH_CA: join(dir, 'agents-ca.pem'),
      WEB_BOT_AUTH_ALLOW_LOOPBACK: '1',
      PUBLIC_ORIGIN: ORIGIN,
    });
  });
  afterAll(async () => {
    await demo?.stop();
    await agent?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signedGet(path: string): Promise<Response> {
    const headers = { 'Signature-Agent': JSON.stringify(agent.origin) };
    const now = Date.now();
    const signed = await signatureHeaders(
      new Request(`${ORIGIN}${path}`, { headers }),
      await signerFromJWK(agentKey.export({ format: 'jwk' })),
      { created: new Date(now), expires: new Date(now + 60_000) },
    );
    return fetch(`${demo.url}${path}`, { headers: { ...headers, ...signed } });
  }

  it('GET /whoami answers a verified agent with method "web-bot-auth", as crawler with role reader', async () => {
    const res = await signedGet('/whoami');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      username: 'crawler',
      keyId: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as string,
      method: 'web-bot-auth',
      roles: ['reader'],
    });
  });

  it('an agent is refused on an admin route: its role subset is reader', async () => {
    const res = await signedGet('/admin/users');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe('ROLE_REQUIRED');
  });
});
