import { createPublicKey, type KeyObject } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { KeyRegistry, REPLAY_STORE, type ReplayStore } from '../src';
import { signWebBotAuthRequest } from '../src/client';
import { AgentAllowlist } from '../src/web-bot-auth/agent-allowlist';
import { DirectoryCache } from '../src/web-bot-auth/directory-cache';
import { signedDirectoryResponse } from '../src/web-bot-auth/directory-response';
import { DIRECTORY_DEFAULTS } from '../src/web-bot-auth/web-bot-auth-options';
import { WebBotAuthAuthenticator } from '../src/web-bot-auth/web-bot-auth.authenticator';

const AGENT = 'https://crawler.example.net';

/**
 * The Web Bot Auth row: WebBotAuthAuthenticator as the module builds it (allowlist,
 * directory cache, the app's key registry and replay store), with the agent's directory
 * already in the cache: the cost per request once the directory is warm. The directory is
 * a real signed response (signedDirectoryResponse) handed to the cache by a fetch that
 * never touches the network, so parsing and its signatures are checked as in production.
 */
export async function webBotAuthRow(
  app: INestApplicationContext,
  key: KeyObject,
  url: string,
  username: string,
): Promise<{
  authenticate: (headers: string[], path: string) => Promise<void>;
  sign: (count: number) => { rawHeaders: string[]; path: string }[];
}> {
  const directory = signedDirectoryResponse(
    [{ privateKey: key, publicKey: createPublicKey(key), algorithm: 'ed25519' }],
    new URL(AGENT).host,
    Date.now(),
  );
  const options = { ...DIRECTORY_DEFAULTS, ca: [] };
  const cache = new DirectoryCache(options, undefined, async () => ({
    body: directory.body,
    rawHeaders: Object.entries(directory.headers).flat(),
    cacheControl: directory.headers['cache-control'],
    fetchedAt: Date.now(),
    authority: new URL(AGENT).host,
  }));
  const authenticator = new WebBotAuthAuthenticator(
    cache,
    new AgentAllowlist([{ origin: AGENT, username }]),
    app.get(KeyRegistry),
    app.get<ReplayStore>(REPLAY_STORE),
    {
      clockSkewMs: 20_000,
      maxLifetimeMs: 300_000,
      requireNonce: false,
      maxBodyBytes: 1 << 20,
      digestAlgorithms: ['sha-256'],
      requiredComponents: [],
    },
  );
  const target = new URL(url);
  const address = { scheme: 'https', authority: target.host };
  const authenticate = async (rawHeaders: string[], path: string) => {
    await authenticator.authenticate(
      {
        method: 'GET',
        url: path,
        rawHeaders,
        rawBody: undefined,
        remoteAddress: '127.0.0.1',
        encrypted: true,
        socket: undefined as never,
      },
      address,
    );
  };
  const sign = (count: number) =>
    Array.from({ length: count }, () => {
      const { headers } = signWebBotAuthRequest({ method: 'GET', url }, { privateKey: key, agent: AGENT });
      return {
        rawHeaders: ['host', target.host, ...Object.entries(headers).flat()],
        path: target.pathname + target.search,
      };
    });
  // Warm the cache: one request through the whole path.
  const [first] = sign(1);
  await authenticate(first.rawHeaders, first.path);
  return { authenticate, sign };
}
