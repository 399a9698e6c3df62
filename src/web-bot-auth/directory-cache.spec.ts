import { generateKeyPairSync } from 'node:crypto';
import { authError, KeypairAuthException } from '../errors/keypair-auth.exception';
import { jwkThumbprint } from '../keys/jwk-thumbprint';
import { DirectoryCache, type DirectoryFetch } from './directory-cache';
import type { FetchedDirectory } from './directory-fetcher';
import {
  DIRECTORY_DEFAULTS,
  DIRECTORY_MEDIA_TYPE,
  type ResolvedDirectoryOptions,
} from './web-bot-auth-options';

/** The cache's rules on a clock the test owns, with a scripted fetch (the e2e spec uses real HTTPS). */
describe('DirectoryCache (G92, deterministic clock)', () => {
  const key = generateKeyPairSync('ed25519').publicKey;
  const thumbprint = jwkThumbprint(key);
  const jwk = { ...key.export({ format: 'jwk' }), kid: thumbprint };
  const options: ResolvedDirectoryOptions = {
    ...DIRECTORY_DEFAULTS,
    signatures: 'verify-if-present',
    ca: [],
    minCacheSeconds: 60,
    maxCacheSeconds: 600,
    staleSeconds: 100,
    failureBackoffSeconds: 10,
  };
  const directory = (cacheControl?: string): FetchedDirectory => ({
    body: Buffer.from(JSON.stringify({ keys: [jwk] })),
    rawHeaders: ['Content-Type', DIRECTORY_MEDIA_TYPE],
    cacheControl,
    fetchedAt: 0,
    authority: 'agent.example',
  });
  const codeOf = async (action: () => unknown): Promise<string> => {
    try {
      await action();
      return 'no error';
    } catch (error) {
      return (error as KeypairAuthException).code;
    }
  };

  it('serves a stale directory after any failed refresh until staleSeconds, then throws that failure', async () => {
    const script: (FetchedDirectory | KeypairAuthException)[] = [
      directory('max-age=120'),
      authError('WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID', 'test'),
      authError('WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID', 'test'),
    ];
    let calls = 0;
    const fetch: DirectoryFetch = () => {
      const next = script[calls++];
      return next instanceof KeypairAuthException ? Promise.reject(next) : Promise.resolve(next);
    };
    const cache = new DirectoryCache(options, undefined, fetch);
    const origin = 'https://agent.example';
    expect((await cache.key(origin, thumbprint, 0)).thumbprint).toBe(thumbprint);
    // Fresh for max-age 120 s: synchronous, no fetch.
    expect(cache.key(origin, thumbprint, 119_000)).toMatchObject({ thumbprint });
    expect(calls).toBe(1);
    // Past freshness: the refresh fails, the stale copy answers; the failure is remembered for 10 s.
    expect((await cache.key(origin, thumbprint, 150_000)).thumbprint).toBe(thumbprint);
    expect((await cache.key(origin, thumbprint, 155_000)).thumbprint).toBe(thumbprint);
    expect(calls).toBe(2);
    // Past freshUntil + staleSeconds (120 + 100 s): the failure's own code.
    expect(await codeOf(() => cache.key(origin, thumbprint, 221_000))).toBe(
      'WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID',
    );
    expect(calls).toBe(3);
  });

  it('clamps the lifetime to minCacheSeconds', async () => {
    let calls = 0;
    const cache = new DirectoryCache(
      options,
      undefined,
      () => (calls++, Promise.resolve(directory('no-store'))),
    );
    await cache.key('https://agent.example', thumbprint, 0);
    expect(cache.key('https://agent.example', thumbprint, 59_000)).toMatchObject({ thumbprint });
    expect(calls).toBe(1);
    await cache.key('https://agent.example', thumbprint, 60_000);
    expect(calls).toBe(2);
  });

  it("keeps at most maxEntries directories of hosts under patterns, and every exact agent's", async () => {
    let calls = 0;
    const cache = new DirectoryCache(
      { ...options, maxEntries: 2 },
      undefined,
      () => (calls++, Promise.resolve(directory())),
    );
    const underPattern = () => true; // a `*.` pattern's host, with budget to spare
    await cache.key('https://exact.example', thumbprint, 0);
    for (const origin of [
      'https://a.fleet.example',
      'https://b.fleet.example',
      'https://c.fleet.example',
      'https://a.fleet.example',
    ]) {
      await cache.key(origin, thumbprint, 0, underPattern);
    }
    expect(calls).toBe(5);
    // The exact agent's directory was not among the evicted.
    expect(cache.key('https://exact.example', thumbprint, 1)).toMatchObject({ thumbprint });
    expect(calls).toBe(5);
  });

  it('bounds the fetches in flight across agents: one more is refused at once, without a fetch', async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const fetch: DirectoryFetch = () => {
      // The first fetch hangs until released; later ones answer at once.
      if (calls++ > 0) return Promise.resolve(directory());
      return new Promise((resolve) => (release = () => resolve(directory())));
    };
    const cache = new DirectoryCache({ ...options, maxConcurrentFetches: 1 }, undefined, fetch);
    const slow = cache.key('https://slow.example', thumbprint, 0);
    expect(await codeOf(() => cache.key('https://other.example', thumbprint, 0))).toBe(
      'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
    );
    expect(calls).toBe(1);
    release!();
    expect((await slow).thumbprint).toBe(thumbprint);
    // The slot is free again: the other agent is fetched now.
    expect((await cache.key('https://other.example', thumbprint, 1)).thumbprint).toBe(thumbprint);
    expect(calls).toBe(2);
  });

  it('agents whose directory never fetched do not evict a working directory', async () => {
    let calls = 0;
    const fetch: DirectoryFetch = (origin) => {
      calls++;
      return origin === 'https://good.example'
        ? Promise.resolve(directory('max-age=600'))
        : Promise.reject(authError('WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', 'test'));
    };
    const cache = new DirectoryCache({ ...options, maxEntries: 2 }, undefined, fetch);
    await cache.key('https://good.example', thumbprint, 0);
    for (let i = 0; i < 20; i++) {
      expect(await codeOf(() => cache.key(`https://h${i}.bad.example`, thumbprint, 1, () => true))).toBe(
        'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
      );
    }
    const before = calls;
    expect(cache.key('https://good.example', thumbprint, 2)).toMatchObject({ thumbprint });
    expect(calls).toBe(before);
  });

  it('red team 8: an agent whose first fetch is in flight shares it, even after the pending cache let go of it', async () => {
    const started: string[] = [];
    const releases: ((d: FetchedDirectory) => void)[] = [];
    const fetch: DirectoryFetch = (origin) => {
      started.push(origin);
      if (origin === 'https://slow.agents.example') {
        return new Promise<FetchedDirectory>((resolve) => releases.push(resolve));
      }
      return Promise.reject(authError('WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', 'test'));
    };
    const cache = new DirectoryCache({ ...options, maxEntries: 2 }, undefined, fetch);
    const underPattern = () => true;
    const ask = (host: string) => cache.key(`https://${host}.agents.example`, thumbprint, 1, underPattern);
    const first = codeOf(() => ask('slow'));
    // Three more new hosts, failing at once: they push slow out of the pending cache.
    for (const host of ['x1', 'x2', 'x3']) await codeOf(() => ask(host));
    const second = codeOf(() => ask('slow'));
    expect(started.filter((o) => o === 'https://slow.agents.example')).toHaveLength(1);
    for (const release of releases) release(directory());
    expect(await first).toBe('no error');
    expect(await second).toBe('no error');
  });
});
