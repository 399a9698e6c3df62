import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { signRfc9421 } from '../../src/http-signatures';
import { jwkThumbprint } from '../../src/keys/jwk-thumbprint';
import { publicKeyFromPrivate } from '../../src/keys/formats/private-key-loader';
import { signWithAlgorithm } from '../../src/keys/key-algorithm';
import { requestView } from '../../src/client/sign-request';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from '../web-bot-auth/support/directory-server';

/**
 * Red team 2 (issue 18, G90, G92): requests naming made-up hosts under an allowlisted `*.`
 * pattern, refused by the new-host budget, still filled the cache of agents without a
 * directory and evicted a failing agent's backoff, and a working directory whose first fetch
 * overlapped them was never cached.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 2: hosts refused by the new-host budget leave the cache alone', () => {
  let t: TestApp;
  let dead: DirectoryServer;
  let slow: DirectoryServer;
  const key = generateKeyPairSync('ed25519').privateKey;
  const keyid = jwkThumbprint(publicKeyFromPrivate(key));

  beforeAll(async () => {
    dead = await startDirectoryServer({ keys: [key] });
    dead.setHandler((_req, res) => res.writeHead(503).end('down'));
    slow = await startDirectoryServer({ keys: [key], cacheControl: 'max-age=3600' });
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [
            { origin: dead.origin, username: 'agent', roles: ['reader'] },
            { origin: slow.origin, username: 'agent', roles: ['reader'] },
            { origin: 'https://*.churn.invalid', username: 'agent', roles: ['reader'] },
          ],
          // Defaults otherwise: failureBackoffSeconds 10, maxEntries 1000, maxNewAgentsPerMinute 30.
          directory: { ca: [dead.caPem, slow.caPem], allowLoopback: true },
        },
      },
    });
    await t.addUser('agent', ['reader']);
  });
  afterAll(async () => {
    await t.close();
    await dead.close();
    await slow.close();
  });

  function signedAs(agent: string): Record<string, string> {
    const path = '/probe/whoami';
    const headers: Record<string, string> = { 'signature-agent': `sig1="${agent}"` };
    const created = Math.floor(Date.now() / 1000);
    const s = signRfc9421(requestView('GET', new URL(`${SERVICE}${path}`), headers), {
      label: 'sig1',
      components: [
        { name: '@method' },
        { name: '@authority' },
        { name: '@path' },
        { name: 'signature-agent', params: { key: 'sig1' } },
      ],
      params: {
        created,
        keyid,
        alg: 'ed25519',
        expires: created + 60,
        nonce: randomBytes(16).toString('hex'),
        tag: 'web-bot-auth',
      },
      sign: (d) => signWithAlgorithm('ed25519', key, d),
    });
    return { ...headers, 'signature-input': s.signatureInput, signature: s.signature };
  }

  async function code(agent: string): Promise<string> {
    const res = await fetch(`${t.server}/probe/whoami`, { headers: signedAs(agent) });
    return `${res.status} ${((await res.json()) as { code?: string }).code}`;
  }

  it('a failing agent is not fetched again within its backoff, however many new hosts are named', async () => {
    const started = Date.now();
    expect(await code(dead.origin)).toBe('401 WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE');
    expect(dead.requests).toBe(1);
    // Control: within failureBackoffSeconds, no new fetch.
    expect(await code(dead.origin)).toBe('401 WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE');
    expect(dead.requests).toBe(1);

    // Churn: 1,050 made-up hosts under the pattern (after the first 30, refused without DNS).
    const codes = new Map<string, number>();
    for (let batch = 0; batch < 21; batch++) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => code(`https://h${batch * 50 + i}.churn.invalid`)),
      );
      for (const c of results) codes.set(c, (codes.get(c) ?? 0) + 1);
    }
    expect([...codes.keys()]).toEqual(['401 WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE']);

    // Still within the 10 s backoff of the first failure: answered without a fetch.
    expect(await code(dead.origin)).toBe('401 WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(dead.requests).toBe(1);
  });

  it('a working directory whose first fetch overlaps the new hosts is cached for its max-age', async () => {
    // The agent's server answers its directory (max-age=3600) after 1.5 s.
    const { buildDirectoryResponse } = await import('../web-bot-auth/support/directory-server');
    slow.setHandler((req, res) => {
      setTimeout(() => {
        void buildDirectoryResponse([key], 'draft', req.headers.host ?? '', 'max-age=3600').then(
          ({ headers, body }) => res.writeHead(200, headers).end(body),
        );
      }, 1500);
    });
    await new Promise((r) => setTimeout(r, 11_000)); // let the in-flight churn of the first test settle
    const first = code(slow.origin);
    await new Promise((r) => setTimeout(r, 200));
    for (let batch = 0; batch < 21; batch++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => code(`https://x${batch * 50 + i}.churn.invalid`)),
      );
    }
    expect(await first).toBe('200 undefined'); // verified, directory fetched once
    expect(slow.requests).toBe(1);
    // max-age=3600: the next requests verify from the cache, without a fetch.
    expect(await code(slow.origin)).toBe('200 undefined');
    expect(await code(slow.origin)).toBe('200 undefined');
    expect(slow.requests).toBe(1);
  }, 30_000);
});
