import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { signatureHeaders } from 'web-bot-auth';
import { signerFromJWK } from 'web-bot-auth/crypto';
import type { KeypairAuthModuleOptions } from '../../src';
import { createTestApp, TestApp } from '../support/test-app';
import { buildDirectoryResponse, DirectoryServer, startDirectoryServer } from './support/directory-server';

/** The service's configured origin: what every agent signature here names. */
const SERVICE = 'https://wba.example.test';

/**
 * Each way an agent's directory can be unusable, as a client sees it: a signed request of an
 * allowlisted agent (Cloudflare's signer), refused with the stable code of what went wrong
 * with the directory, over real HTTP, with the directories on real HTTPS servers.
 */
describe('Web Bot Auth: refusals for an unusable directory, through HTTP (G89–G92)', () => {
  const key = generateKeyPairSync('ed25519').privateKey;
  const apps: TestApp[] = [];
  const servers: DirectoryServer[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const server of servers) await server.close();
  });

  async function server(cacheControl?: string): Promise<DirectoryServer> {
    const dir = await startDirectoryServer({ keys: [key], signing: 'draft', cacheControl });
    servers.push(dir);
    return dir;
  }

  async function app(
    agentOrigins: string[],
    directory: NonNullable<KeypairAuthModuleOptions['webBotAuth']>['directory'],
  ): Promise<TestApp> {
    const t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: agentOrigins.map((origin) => ({ origin, username: 'crawler', roles: ['reader'] })),
          directory,
        },
      },
    });
    await t.addUser('crawler', ['reader']);
    apps.push(t);
    return t;
  }

  async function whoami(t: TestApp, agentOrigin: string, signingKey: KeyObject = key) {
    const headers = { 'Signature-Agent': JSON.stringify(agentOrigin) };
    const created = Math.floor(Date.now() / 1000);
    const signed = await signatureHeaders(
      new Request(`${SERVICE}/probe/whoami`, { headers }),
      await signerFromJWK(signingKey.export({ format: 'jwk' })),
      { created: new Date(created * 1000), expires: new Date((created + 60) * 1000) },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers: { ...headers, ...signed } });
    return { status: res.status, code: ((await res.json()) as { code?: string }).code };
  }

  it('refuses each unusable directory with its code, and accepts the agent whose directory is fine', async () => {
    const [good, badSignature, tooLarge, redirecting, elsewhere] = await Promise.all([
      server(),
      server(),
      server(),
      server(),
      server(),
    ]);
    // A genuine signed directory whose body was altered after signing.
    const genuine = await buildDirectoryResponse([key], 'draft', new URL(badSignature.origin).host);
    badSignature.setHandler((_req, res) => {
      res.writeHead(200, genuine.headers);
      // One more member in the key: the body no longer matches its signed Content-Digest.
      res.end(genuine.body.replace('}]}', ',"x5u":"x"}]}'));
    });
    tooLarge.setHandler((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/http-message-signatures-directory+json' });
      res.end(`{"keys":[],"pad":"${'x'.repeat(100_000)}"}`);
    });
    redirecting.setHandler((_req, res) => {
      res.writeHead(302, { Location: `${elsewhere.origin}/.well-known/http-message-signatures-directory` });
      res.end();
    });
    const t = await app(
      [good.origin, badSignature.origin, tooLarge.origin, redirecting.origin, 'https://10.255.255.1'],
      // Each test server has a CA of its own.
      { ca: [good, badSignature, tooLarge, redirecting].map((d) => d.caPem), allowLoopback: true },
    );
    expect(await whoami(t, good.origin)).toEqual({ status: 200, code: undefined });
    expect(await whoami(t, badSignature.origin)).toEqual({
      status: 401,
      code: 'WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID',
    });
    expect(await whoami(t, tooLarge.origin)).toEqual({
      status: 401,
      code: 'WEB_BOT_AUTH_DIRECTORY_TOO_LARGE',
    });
    expect(await whoami(t, redirecting.origin)).toEqual({
      status: 401,
      code: 'WEB_BOT_AUTH_DIRECTORY_REDIRECT',
    });
    expect(elsewhere.requests).toBe(0);
    expect(await whoami(t, 'https://10.255.255.1')).toEqual({
      status: 401,
      code: 'WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED',
    });
  });

  it('refuses a directory host that resolves to loopback unless allowLoopback: WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED', async () => {
    const dir = await server();
    const t = await app([dir.origin], { ca: dir.caPem });
    expect(new URL(dir.origin).hostname).toBe('localhost');
    expect(await whoami(t, dir.origin)).toEqual({
      status: 401,
      code: 'WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED',
    });
    expect(dir.connections).toBe(0);
  });

  it('a directory that stops answering verifies stale within staleSeconds, then is refused: WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', async () => {
    const dir = await server('max-age=1');
    const t = await app([dir.origin], {
      ca: dir.caPem,
      allowLoopback: true,
      minCacheSeconds: 1,
      staleSeconds: 2,
      timeoutMs: 300,
      failureBackoffSeconds: 0,
    });
    expect(await whoami(t, dir.origin)).toEqual({ status: 200, code: undefined });
    // The agent's host now accepts connections and never answers.
    dir.setHandler(() => undefined);
    await new Promise((r) => setTimeout(r, 1200));
    // Past its max-age, within the stale window: the refresh times out, the cached copy verifies.
    expect(await whoami(t, dir.origin)).toEqual({ status: 200, code: undefined });
    await new Promise((r) => setTimeout(r, 2200));
    // Past the stale window: fail closed.
    expect(await whoami(t, dir.origin)).toEqual({ status: 401, code: 'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE' });
  }, 20_000);
});
