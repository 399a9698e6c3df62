import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { signWebBotAuthRequest } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, directoryJwk, startDirectoryServer } from './support/directory-server';

/**
 * Red team 4, G90 ("a directory with a private key member is refused whole",
 * WEB_BOT_AUTH_DIRECTORY_INVALID: a host that publishes private key material is not a key
 * authority). PRIVATE_JWK_MEMBERS lists d, p, q, dp, dq, qi, oth, k, not `priv`, the private
 * member of an ML-DSA ("AKP") JWK (draft-ietf-cose-dilithium). A directory that publishes an
 * ML-DSA key with its `priv` is not refused: the AKP key is skipped and the directory's Ed25519
 * key authenticates. Control: the same directory with an OKP key carrying `d` is refused.
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 4: a directory that publishes an ML-DSA private key', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  let other: Record<string, unknown> = {};

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [], signing: 'none' });
    agent.setHandler((_req, res) => {
      res
        .writeHead(200, {
          'content-type': 'application/http-message-signatures-directory+json',
          'cache-control': 'no-store',
        })
        .end(JSON.stringify({ keys: [directoryJwk(agentKey), other] }));
    });
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: {
            ca: agent.caPem,
            allowLoopback: true,
            minCacheSeconds: 0,
            failureBackoffSeconds: 0,
            staleSeconds: 1,
          } as never,
        },
      },
    });
    await t.addUser('crawler', ['reader']);
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  async function probe(): Promise<{ status: number; who: unknown }> {
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { privateKey: agentKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, who: body.username ?? body.code };
  }

  // The control first: a refused refresh would be answered from the stale copy a working directory leaves.
  it('control: an Ed25519 key with its private member "d": refused whole', async () => {
    other = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
    expect(await probe()).toEqual({ status: 401, who: 'WEB_BOT_AUTH_DIRECTORY_INVALID' });
  });

  it('an ML-DSA (AKP) key with its private member priv: the directory is refused whole', async () => {
    other = {
      kty: 'AKP',
      alg: 'ML-DSA-44',
      pub: randomBytes(1312).toString('base64url'),
      priv: randomBytes(32).toString('base64url'),
    };
    expect(await probe()).toEqual({ status: 401, who: 'WEB_BOT_AUTH_DIRECTORY_INVALID' });
  });
});
