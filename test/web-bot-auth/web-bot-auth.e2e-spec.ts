import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { signatureHeaders as httpsigSignatureHeaders } from 'http-message-sig';
import { helpers, jwkToKeyID, signatureHeaders } from 'web-bot-auth';
import { signerFromJWK } from 'web-bot-auth/crypto';
import { signRequest } from '../../src/client';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Web Bot Auth through the real module over real HTTP, signed by Cloudflare's web-bot-auth
 * 0.1.3 and its http-message-sig 0.2.0 (a signer we did not write), with the agents'
 * directories on real HTTPS servers whose CA the app trusts.
 */
/** The service's configured origin: what every agent signature here names (webBotAuth requires it). */
const SERVICE = 'https://wba.example.test';

describe.each(ADAPTERS)('Web Bot Auth on %s', (adapter) => {
  let t: TestApp;
  let agent: DirectoryServer;
  let unlisted: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  const strangerKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [agentKey], signing: 'cloudflare' });
    unlisted = await startDirectoryServer({ keys: [strangerKey], signing: 'cloudflare' });
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: { ca: agent.caPem, allowLoopback: true },
        },
      },
    });
    await t.addUser('crawler', ['reader', 'admin']);
    const alice = await t.addUser('alice', ['reader']);
    await t.registry.register(alice, testKey('ed25519', 0).publicPem, { keyId: 'web-bot-auth-1' });
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
    await unlisted.close();
  });

  const now = () => Math.floor(Date.now() / 1000);

  /** What Cloudflare's signer sends for a GET of `path` as the agent at `agentUrl`. */
  async function cloudflareSigned(
    path: string,
    key: KeyObject = agentKey,
    agentUrl = agent.origin,
    times: { created?: number; expires?: number } = {},
  ): Promise<Record<string, string>> {
    const url = `${SERVICE}${path}`;
    const headers = { 'Signature-Agent': JSON.stringify(agentUrl) };
    const created = times.created ?? now();
    const signed = await signatureHeaders(
      new Request(url, { headers }),
      await signerFromJWK(key.export({ format: 'jwk' })),
      { created: new Date(created * 1000), expires: new Date((times.expires ?? created + 60) * 1000) },
    );
    return { ...headers, ...signed };
  }

  /** A signature crafted with http-message-sig: any components and parameters. */
  async function crafted(
    path: string,
    components: string[],
    params: Record<string, unknown>,
    extraHeaders: Record<string, string> = { 'Signature-Agent': JSON.stringify(agent.origin) },
  ): Promise<Record<string, string>> {
    const url = `${SERVICE}${path}`;
    const signer = await signerFromJWK(agentKey.export({ format: 'jwk' }));
    const signed = await httpsigSignatureHeaders(new Request(url, { headers: extraHeaders }), {
      signer,
      components,
      keyid: signer.keyid,
      created: new Date(now() * 1000),
      expires: new Date((now() + 60) * 1000),
      ...params,
    } as Parameters<typeof httpsigSignatureHeaders>[1]);
    return { ...extraHeaders, ...signed };
  }

  async function get(path: string, headers: Record<string, string>) {
    const res = await fetch(`${t.server}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("Cloudflare's web-bot-auth signer is accepted, with its directory fetched over HTTPS", async () => {
    const before = agent.requests;
    const res = await get('/probe/whoami', await cloudflareSigned('/probe/whoami'));
    expect(res).toEqual({
      status: 200,
      body: {
        username: 'crawler',
        keyId: await jwkToKeyID(
          agentKey.export({ format: 'jwk' }) as never,
          helpers.WEBCRYPTO_SHA256,
          helpers.BASE64URL_DECODE,
        ),
        method: 'web-bot-auth',
        roles: ['reader'],
        agent: { origin: agent.origin, thumbprint: expect.any(String) as string },
      },
    });
    expect((res.body.agent as { thumbprint: string }).thumbprint).toBe(res.body.keyId);
    // A second request verifies from the cache: no second fetch.
    expect((await get('/probe/whoami', await cloudflareSigned('/probe/whoami'))).status).toBe(200);
    expect(agent.requests - before).toBeLessThanOrEqual(1);
  });

  it("a verified agent gets its account's roles only within the agent's subset", async () => {
    const res = await get('/probe/admin', await cloudflareSigned('/probe/admin'));
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('ROLE_REQUIRED');
  });

  it('refuses an expired signature: TOKEN_EXPIRED', async () => {
    const res = await get(
      '/probe/whoami',
      await cloudflareSigned('/probe/whoami', agentKey, agent.origin, {
        created: now() - 200,
        expires: now() - 100,
      }),
    );
    expect(res).toMatchObject({ status: 401, body: { code: 'TOKEN_EXPIRED' } });
  });

  it('refuses expires too far ahead: TOKEN_LIFETIME_TOO_LONG', async () => {
    const res = await get(
      '/probe/whoami',
      await cloudflareSigned('/probe/whoami', agentKey, agent.origin, { expires: now() + 3600 }),
    );
    expect(res).toMatchObject({ status: 401, body: { code: 'TOKEN_LIFETIME_TOO_LONG' } });
  });

  it('refuses a missing or wrong tag: WEB_BOT_AUTH_TAG_INVALID', async () => {
    const components = ['@authority', 'signature-agent'];
    // The control: the same crafted signature with the tag is accepted.
    const control = await get(
      '/probe/whoami',
      await crafted('/probe/whoami', components, { tag: 'web-bot-auth' }),
    );
    expect(control.status).toBe(200);
    for (const params of [{}, { tag: 'web-bot-auth-v2' }, { tag: 'Web-Bot-Auth' }]) {
      const res = await get('/probe/whoami', await crafted('/probe/whoami', components, params));
      expect(res).toMatchObject({ status: 401, body: { code: 'WEB_BOT_AUTH_TAG_INVALID' } });
    }
  });

  it('refuses a signature that does not cover @authority: SIGNATURE_COVERAGE_INSUFFICIENT', async () => {
    const res = await get(
      '/probe/whoami',
      await crafted('/probe/whoami', ['@method', '@path', 'signature-agent'], { tag: 'web-bot-auth' }),
    );
    expect(res).toMatchObject({ status: 401, body: { code: 'SIGNATURE_COVERAGE_INSUFFICIENT' } });
  });

  it('refuses a Signature-Agent the signature does not cover: WEB_BOT_AUTH_AGENT_NOT_COVERED', async () => {
    const res = await get(
      '/probe/whoami',
      await crafted('/probe/whoami', ['@authority', '@method', '@path'], { tag: 'web-bot-auth' }),
    );
    expect(res).toMatchObject({ status: 401, body: { code: 'WEB_BOT_AUTH_AGENT_NOT_COVERED' } });
  });

  it("refuses a keyid that is not in the agent's directory: KEY_UNKNOWN_OR_SIGNATURE_INVALID", async () => {
    const unknown = await get('/probe/whoami', await cloudflareSigned('/probe/whoami', strangerKey));
    expect(unknown).toMatchObject({ status: 401, body: { code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' } });
    // The same answer as a signature that does not verify under a key the directory has.
    const headers = await cloudflareSigned('/probe/whoami');
    headers.Signature = headers.Signature.replace(/:(.)/, (_, c: string) => `:${c === 'A' ? 'B' : 'A'}`);
    const forged = await get('/probe/whoami', headers);
    expect(forged).toEqual(unknown);
  });

  it('refuses an agent that is not on the allowlist, without fetching anything: WEB_BOT_AUTH_AGENT_NOT_ALLOWED', async () => {
    const res = await get(
      '/probe/whoami',
      await cloudflareSigned('/probe/whoami', strangerKey, unlisted.origin),
    );
    expect(res).toMatchObject({ status: 401, body: { code: 'WEB_BOT_AUTH_AGENT_NOT_ALLOWED' } });
    expect(unlisted.requests).toBe(0);
  });

  it('refuses a replayed nonce: REPLAYED', async () => {
    const headers = await cloudflareSigned('/probe/whoami');
    expect((await get('/probe/whoami', headers)).status).toBe(200);
    expect(await get('/probe/whoami', headers)).toMatchObject({ status: 401, body: { code: 'REPLAYED' } });
  });

  it('a registry key whose keyid contains "web-bot-auth" still signs ordinary RFC 9421 requests', async () => {
    const url = `${SERVICE}/probe/whoami`;
    const { headers } = signRequest(
      { method: 'GET', url },
      { keyId: 'web-bot-auth-1', privateKey: testKey('ed25519', 0).privateKey },
    );
    const res = await get('/probe/whoami', headers);
    expect(res).toMatchObject({ status: 200, body: { username: 'alice', method: 'http-signature-rfc9421' } });
  });
});
