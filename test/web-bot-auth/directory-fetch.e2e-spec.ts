/**
 * The agent key directory over real HTTPS (docs/SECURITY.md G89–G92): the SSRF bounds of the
 * fetch, the directory's shape and signatures, and the cache's single flight, staleness and
 * replacement. Every server is a real TLS server on 127.0.0.1 with its own CA.
 */
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { KeypairAuthException } from '../../src/errors/keypair-auth.exception';
import { jwkThumbprint } from '../../src/keys/jwk-thumbprint';
import { parseDirectory } from '../../src/web-bot-auth/agent-directory';
import { DirectoryCache } from '../../src/web-bot-auth/directory-cache';
import { fetchDirectory } from '../../src/web-bot-auth/directory-fetcher';
import {
  DIRECTORY_DEFAULTS,
  DIRECTORY_MEDIA_TYPE,
  type ResolvedDirectoryOptions,
} from '../../src/web-bot-auth/web-bot-auth-options';
import {
  buildDirectoryResponse,
  directoryJwk,
  type DirectoryServer,
  startDirectoryServer,
} from './support/directory-server';

const ed25519 = (): KeyObject => generateKeyPairSync('ed25519').privateKey;
const alice = ed25519();
const bob = ed25519();
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

/** The code a promise (or a synchronous throw) fails with. */
async function codeOf(action: () => unknown): Promise<string> {
  try {
    await action();
  } catch (error) {
    if (error instanceof KeypairAuthException) return error.code;
    throw error;
  }
  return 'no error';
}

/** Resolves after `ms`. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function serve(res: ServerResponse, response: { headers: Record<string, string>; body: string }): void {
  res.writeHead(200, response.headers).end(response.body);
}

describe('agent key directory (fetch, validate, cache)', () => {
  let dir: DirectoryServer;

  beforeAll(async () => {
    dir = await startDirectoryServer({ keys: [alice] });
  });
  afterAll(() => dir.close());
  afterEach(() => {
    dir.setHandler(null);
    dir.setKeys([alice], 'draft');
  });

  const options = (over: Partial<ResolvedDirectoryOptions> = {}): ResolvedDirectoryOptions => ({
    ...DIRECTORY_DEFAULTS,
    ca: [dir.caPem],
    allowLoopback: true,
    ...over,
  });

  /** Fetch and parse, as the cache does. */
  const load = async (origin: string, opts = options(), logs: string[] = []) =>
    parseDirectory(await fetchDirectory(origin, opts), opts, Date.now(), (m) => logs.push(m));

  describe('G89: the fetch cannot be pointed inside the network', () => {
    it('refuses a directory host that resolves to loopback: WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED', async () => {
      const before = dir.connections;
      expect(dir.origin).toMatch(/^https:\/\/localhost:\d+$/);
      expect(await codeOf(() => fetchDirectory(dir.origin, options({ allowLoopback: false })))).toBe(
        'WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED',
      );
      const cache = new DirectoryCache(options({ allowLoopback: false }));
      expect(await codeOf(() => cache.key(dir.origin, jwkThumbprint(alice), Date.now()))).toBe(
        'WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED',
      );
      // Loopback as an IP literal, and as an IPv4-mapped IPv6 literal, are the same address.
      for (const origin of [`https://127.0.0.1:${dir.port}`, `https://[::ffff:7f00:1]:${dir.port}`]) {
        expect(await codeOf(() => fetchDirectory(origin, options({ allowLoopback: false })))).toBe(
          'WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED',
        );
      }
      expect(dir.connections).toBe(before);
      // The control: the very same fetch works once loopback is allowed.
      expect([...(await load(dir.origin)).keys()]).toEqual([jwkThumbprint(alice)]);
      expect(dir.connections).toBeGreaterThan(before);
    });

    it('refuses a directory at a private address: WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED', async () => {
      // allowLoopback admits loopback only, never these. A connection attempt to an unroutable
      // address would hang until the 3 s timeout; the refusal comes first.
      for (const origin of [
        'https://10.255.255.1',
        'https://192.168.1.1:8443',
        'https://172.16.0.1',
        'https://169.254.169.254',
        'https://100.64.0.1',
        'https://0.0.0.0',
        'https://[fd00::1]',
        'https://[fe80::1]',
        'https://[::1]',
        'https://[2002:a00:1::]',
        'https://[64:ff9b::a00:1]',
      ]) {
        const started = Date.now();
        const code = await codeOf(() =>
          fetchDirectory(origin, options({ allowLoopback: origin !== 'https://[::1]' })),
        );
        expect({ origin, code }).toEqual({ origin, code: 'WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED' });
        expect(Date.now() - started).toBeLessThan(200);
      }
    });

    it('checks every address a host resolves to, and connects only to a checked one', async () => {
      const before = dir.connections;
      // One private address among public ones refuses the host, before any connection.
      const mixed = async () => [
        { address: '127.0.0.1', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ];
      expect(await codeOf(() => fetchDirectory(dir.origin, options(), mixed))).toBe(
        'WEB_BOT_AUTH_DIRECTORY_ADDRESS_REFUSED',
      );
      expect(dir.connections).toBe(before);
      // 127.0.0.2 refuses the connection (the server listens on 127.0.0.1 only): the next checked
      // address is tried, with TLS still verifying the host name.
      const lookups: string[] = [];
      const twoAddresses = async (host: string) => {
        lookups.push(host);
        return [
          { address: '127.0.0.2', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ];
      };
      const fetched = await fetchDirectory(dir.origin, options(), twoAddresses);
      expect(fetched.authority).toBe(`localhost:${dir.port}`);
      expect(lookups).toEqual(['localhost']);
    });

    it('verifies the TLS certificate: an untrusted one is WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', async () => {
      const requests = dir.requests;
      expect(await codeOf(() => fetchDirectory(dir.origin, options({ ca: [] })))).toBe(
        'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
      );
      expect(dir.requests).toBe(requests);
    });
  });

  describe('G90: bounded in time, size and shape', () => {
    it('refuses a directory over the size limit: WEB_BOT_AUTH_DIRECTORY_TOO_LARGE', async () => {
      const small = options({ maxBytes: 1024, timeoutMs: 2000 });
      // Declared too large: refused on the headers.
      dir.setHandler((_req, res) =>
        res
          .writeHead(200, { 'Content-Type': DIRECTORY_MEDIA_TYPE, 'Content-Length': '5000' })
          .end('x'.repeat(5000)),
      );
      expect(await codeOf(() => fetchDirectory(dir.origin, small))).toBe('WEB_BOT_AUTH_DIRECTORY_TOO_LARGE');
      // No Content-Length and a body that never ends: cut off at the limit, not at the timeout.
      let closed = false;
      dir.setHandler((_req, res) => {
        res.writeHead(200, { 'Content-Type': DIRECTORY_MEDIA_TYPE });
        const timer = setInterval(() => res.write('x'.repeat(256)), 5);
        res.on('close', () => {
          closed = true;
          clearInterval(timer);
        });
      });
      const started = Date.now();
      expect(await codeOf(() => fetchDirectory(dir.origin, small))).toBe('WEB_BOT_AUTH_DIRECTORY_TOO_LARGE');
      expect(Date.now() - started).toBeLessThan(1500);
      await sleep(50);
      expect(closed).toBe(true);
      // The control: the same directory within the limit is read.
      dir.setHandler(null);
      expect((await load(dir.origin, options({ maxBytes: 1024 }))).size).toBe(1);
    });

    it('refuses a redirect off-origin: WEB_BOT_AUTH_DIRECTORY_REDIRECT', async () => {
      const other = await startDirectoryServer({ keys: [bob], host: '127.0.0.1' });
      try {
        for (const status of [301, 302, 303, 307, 308]) {
          dir.setHandler((_req, res) =>
            res
              .writeHead(status, {
                Location: `${other.origin}/.well-known/http-message-signatures-directory`,
              })
              .end(),
          );
          const error = await fetchDirectory(dir.origin, options({ ca: [dir.caPem, other.caPem] })).catch(
            (e: KeypairAuthException) => e,
          );
          expect(error).toBeInstanceOf(KeypairAuthException);
          expect((error as KeypairAuthException).code).toBe('WEB_BOT_AUTH_DIRECTORY_REDIRECT');
          expect((error as KeypairAuthException).reason).toContain(other.origin);
        }
        expect(other.requests).toBe(0);
        expect(other.connections).toBe(0);
      } finally {
        await other.close();
      }
    });

    it('refuses a directory with the wrong media type: WEB_BOT_AUTH_DIRECTORY_INVALID', async () => {
      const genuine = await buildDirectoryResponse([alice], 'draft', `localhost:${dir.port}`);
      for (const type of ['application/json', 'application/jwk-set+json', 'text/html', undefined]) {
        dir.setHandler((_req, res) => {
          const headers: Record<string, string> = { ...genuine.headers };
          delete headers['Content-Type'];
          if (type !== undefined) headers['Content-Type'] = type;
          serve(res, { headers, body: genuine.body });
        });
        expect({ type, code: await codeOf(() => load(dir.origin)) }).toEqual({
          type,
          code: 'WEB_BOT_AUTH_DIRECTORY_INVALID',
        });
      }
      // The control: the media type is compared by essence, case-insensitively.
      dir.setHandler((_req, res) =>
        serve(res, {
          headers: {
            ...genuine.headers,
            'Content-Type': `${DIRECTORY_MEDIA_TYPE.toUpperCase()}; charset=utf-8`,
          },
          body: genuine.body,
        }),
      );
      expect((await load(dir.origin)).size).toBe(1);
    });

    it('refuses a content coding, a status other than 200 and a body that is not a JWK Set', async () => {
      const genuine = await buildDirectoryResponse([alice], 'draft', `localhost:${dir.port}`);
      const cases: [string, (res: ServerResponse) => void, string][] = [
        [
          'gzip',
          (res) =>
            serve(res, { headers: { ...genuine.headers, 'Content-Encoding': 'gzip' }, body: genuine.body }),
          'WEB_BOT_AUTH_DIRECTORY_INVALID',
        ],
        ['404', (res) => res.writeHead(404).end(), 'WEB_BOT_AUTH_DIRECTORY_INVALID'],
        ['204', (res) => res.writeHead(204).end(), 'WEB_BOT_AUTH_DIRECTORY_INVALID'],
        ['503', (res) => res.writeHead(503).end(), 'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE'],
        [
          'array',
          (res) => serve(res, { headers: { 'Content-Type': DIRECTORY_MEDIA_TYPE }, body: '[]' }),
          'WEB_BOT_AUTH_DIRECTORY_INVALID',
        ],
        [
          'no keys',
          (res) => serve(res, { headers: { 'Content-Type': DIRECTORY_MEDIA_TYPE }, body: '{"keys":{}}' }),
          'WEB_BOT_AUTH_DIRECTORY_INVALID',
        ],
        [
          'too many keys',
          (res) =>
            serve(res, {
              headers: { 'Content-Type': DIRECTORY_MEDIA_TYPE },
              body: JSON.stringify({ keys: Array.from({ length: 17 }, () => directoryJwk(alice)) }),
            }),
          'WEB_BOT_AUTH_DIRECTORY_INVALID',
        ],
        [
          'private member',
          (res) =>
            serve(res, {
              headers: { 'Content-Type': DIRECTORY_MEDIA_TYPE },
              body: JSON.stringify({
                keys: [{ ...directoryJwk(alice), d: alice.export({ format: 'jwk' }).d }],
              }),
            }),
          'WEB_BOT_AUTH_DIRECTORY_INVALID',
        ],
        ['connection reset', (res) => res.socket?.destroy(), 'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE'],
      ];
      for (const [name, handler, code] of cases) {
        dir.setHandler((_req, res) => handler(res));
        expect({ name, code: await codeOf(() => load(dir.origin)) }).toEqual({ name, code });
      }
    });

    it('a body that drips past the timeout is WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE (one wall-clock limit)', async () => {
      dir.setHandler((_req, res) => {
        res.writeHead(200, { 'Content-Type': DIRECTORY_MEDIA_TYPE });
        // Never idle for long, so only a wall-clock limit stops it.
        const timer = setInterval(() => res.write(' '), 50);
        res.on('close', () => clearInterval(timer));
      });
      const started = Date.now();
      expect(await codeOf(() => fetchDirectory(dir.origin, options({ timeoutMs: 400 })))).toBe(
        'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('concurrent requests for one agent share one fetch', async () => {
      const genuine = await buildDirectoryResponse([alice], 'draft', `localhost:${dir.port}`);
      dir.setHandler((_req, res) => setTimeout(() => serve(res, genuine), 150));
      const cache = new DirectoryCache(options());
      const before = dir.requests;
      const now = Date.now();
      const keys = await Promise.all(
        Array.from({ length: 25 }, () => cache.key(dir.origin, jwkThumbprint(alice), now)),
      );
      expect(dir.requests - before).toBe(1);
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]).toMatchObject({ thumbprint: jwkThumbprint(alice), algorithm: 'ed25519' });
      // A fresh hit is answered synchronously, without a fetch.
      const hit = cache.key(dir.origin, jwkThumbprint(alice), Date.now());
      expect(hit).toBe(keys[0]);
      expect(dir.requests - before).toBe(1);
    });

    it('a failed fetch is not retried within failureBackoffSeconds', async () => {
      dir.setHandler((_req, res) => res.writeHead(503).end());
      const cache = new DirectoryCache(options({ failureBackoffSeconds: 10 }));
      const before = dir.requests;
      for (let i = 0; i < 3; i++) {
        expect(await codeOf(() => cache.key(dir.origin, jwkThumbprint(alice), Date.now()))).toBe(
          'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
        );
      }
      expect(dir.requests - before).toBe(1);
      // With no backoff each request tries again.
      const eager = new DirectoryCache(options({ failureBackoffSeconds: 0 }));
      await codeOf(() => eager.key(dir.origin, jwkThumbprint(alice), Date.now()));
      await codeOf(() => eager.key(dir.origin, jwkThumbprint(alice), Date.now()));
      expect(dir.requests - before).toBe(3);
    });
  });

  describe("G91: the directory's own signatures", () => {
    it('refuses a directory signature that does not verify: WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID', async () => {
      const authority = `localhost:${dir.port}`;
      const forOtherHost = await buildDirectoryResponse([alice], 'draft', 'agent.example');
      const cloudflareForOtherHost = await buildDirectoryResponse([alice], 'cloudflare', 'agent.example');
      const genuine = await buildDirectoryResponse([alice], 'draft', authority);
      const flipped = genuine.headers.Signature.replace(
        /:(.)/,
        (_m, c: string) => `:${c === 'A' ? 'B' : 'A'}`,
      );
      const byBob = await buildDirectoryResponse([bob], 'draft', authority);
      const cases: [string, { headers: Record<string, string>; body: string }][] = [
        // A genuine directory of another host, replayed here.
        ['signed for another host', forOtherHost],
        ['Cloudflare-signed for another host', cloudflareForOtherHost],
        // The body changed after signing: Content-Digest no longer matches.
        ['body changed', { headers: genuine.headers, body: genuine.body.replace('"keys"', '"keys" ') }],
        [
          'signature bytes changed',
          { headers: { ...genuine.headers, Signature: flipped }, body: genuine.body },
        ],
        // Bob's signature with Alice's keyid.
        [
          'signed by another key',
          {
            headers: {
              ...genuine.headers,
              Signature: byBob.headers.Signature,
            },
            body: genuine.body,
          },
        ],
        // A keyid the directory does not list.
        ['keyid not listed', { headers: byBob.headers, body: genuine.body }],
      ];
      for (const [name, response] of cases) {
        dir.setHandler((_req, res) => serve(res, response));
        // Even when signatures are optional, one that is present must verify.
        const code = await codeOf(() => load(dir.origin, options({ signatures: 'verify-if-present' })));
        expect({ name, code }).toEqual({ name, code: 'WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID' });
      }
      // The control: the genuine response verifies.
      dir.setHandler((_req, res) => serve(res, genuine));
      expect([...(await load(dir.origin)).keys()]).toEqual([jwkThumbprint(alice)]);
    });

    it('refuses an unsigned key when signatures are required: WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID', async () => {
      dir.setKeys([alice], 'none');
      expect(await codeOf(() => load(dir.origin, options({ signatures: 'require' })))).toBe(
        'WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID',
      );
      expect((await load(dir.origin, options({ signatures: 'verify-if-present' }))).size).toBe(1);
      // Two keys, only one of them signing: the other one is unsigned.
      const authority = `localhost:${dir.port}`;
      const both = await buildDirectoryResponse([alice, bob], 'none', authority);
      // Alice's genuine signature (bound to this host only, so it fits any body), Bob's key unsigned.
      const cf = await buildDirectoryResponse([alice], 'cloudflare', authority);
      dir.setHandler((_req, res) => serve(res, { headers: cf.headers, body: both.body }));
      expect(await codeOf(() => load(dir.origin, options({ signatures: 'require' })))).toBe(
        'WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID',
      );
      expect((await load(dir.origin, options({ signatures: 'verify-if-present' }))).size).toBe(2);
    });

    it('refuses a directory signature that has expired or is dated ahead: WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID', async () => {
      // The server signs with created = now and expires = now + 300 s; the parser's clock moves.
      const fetched = await fetchDirectory(dir.origin, options());
      const at = (offsetSeconds: number) => () =>
        parseDirectory(fetched, options(), Date.now() + offsetSeconds * 1000);
      expect(await codeOf(at(301))).toBe('WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID');
      expect(await codeOf(at(-61))).toBe('WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID');
      // Within the window, and within the 60 s clock skew: accepted.
      expect((at(299)() as Map<string, unknown>).size).toBe(1);
      expect((at(-59)() as Map<string, unknown>).size).toBe(1);
    });

    it("accepts a directory signed by Cloudflare's web-bot-auth (directoryResponseHeaders)", async () => {
      dir.setKeys([alice, rsa], 'cloudflare');
      const keys = await load(dir.origin);
      expect(keys.get(jwkThumbprint(alice))?.algorithm).toBe('ed25519');
      expect(keys.get(jwkThumbprint(rsa))?.algorithm).toBe('rsa-pss-sha512');
      // Our draft signer, with ECDSA and RSA too.
      dir.setKeys([alice, rsa, p256], 'draft');
      expect([...(await load(dir.origin)).values()].map((k) => k.algorithm)).toEqual([
        'ed25519',
        'rsa-pss-sha512',
        'ecdsa-p256-sha256',
      ]);
    });

    it('skips a key whose kid is not its thumbprint, an encryption key, and an RSA key without alg', async () => {
      const logs: string[] = [];
      dir.setHandler((_req, res) =>
        serve(res, {
          headers: { 'Content-Type': DIRECTORY_MEDIA_TYPE },
          body: JSON.stringify({
            keys: [
              { ...directoryJwk(alice), kid: 'alice' },
              { ...directoryJwk(bob), use: 'enc' },
              { ...directoryJwk(rsa), alg: undefined },
              directoryJwk(p256),
            ],
          }),
        }),
      );
      const keys = await load(dir.origin, options({ signatures: 'verify-if-present' }), logs);
      expect([...keys.keys()]).toEqual([jwkThumbprint(p256)]);
      expect(logs).toHaveLength(3);
      expect(logs[0]).toContain('"kid" "alice" is not its RFC 7638 thumbprint');
    });
  });

  describe('G92: cached within bounds, stale fails closed', () => {
    it('a directory fetch that times out is served stale within the window, then refused: WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE', async () => {
      const cache = new DirectoryCache(
        options({
          minCacheSeconds: 1,
          maxCacheSeconds: 1,
          staleSeconds: 1,
          timeoutMs: 300,
          failureBackoffSeconds: 0,
        }),
      );
      const thumbprint = jwkThumbprint(alice);
      const t0 = Date.now();
      await cache.key(dir.origin, thumbprint, t0);
      const before = dir.requests;
      dir.setHandler(() => undefined); // accepts the request and never answers
      await sleep(t0 + 1200 - Date.now());
      // Past freshness, within staleSeconds: the refresh times out, the cached key answers.
      const started = Date.now();
      const stale = await cache.key(dir.origin, thumbprint, Date.now());
      expect(stale.thumbprint).toBe(thumbprint);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(dir.requests - before).toBe(1);
      await sleep(t0 + 2300 - Date.now());
      expect(await codeOf(() => cache.key(dir.origin, thumbprint, Date.now()))).toBe(
        'WEB_BOT_AUTH_DIRECTORY_UNAVAILABLE',
      );
      expect(dir.requests - before).toBe(2);
    });

    it('a key removed from a refreshed directory stops verifying', async () => {
      dir.setKeys([alice, bob]);
      const cache = new DirectoryCache(options({ minCacheSeconds: 1, maxCacheSeconds: 1 }));
      expect((await cache.key(dir.origin, jwkThumbprint(bob), Date.now())).thumbprint).toBe(
        jwkThumbprint(bob),
      );
      dir.setKeys([alice]);
      // Still fresh: the cached directory answers.
      expect(
        (cache.key(dir.origin, jwkThumbprint(bob), Date.now()) as { thumbprint: string }).thumbprint,
      ).toBe(jwkThumbprint(bob));
      await sleep(1100);
      expect(await codeOf(() => cache.key(dir.origin, jwkThumbprint(bob), Date.now()))).toBe(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
      );
      expect((await cache.key(dir.origin, jwkThumbprint(alice), Date.now())).thumbprint).toBe(
        jwkThumbprint(alice),
      );
    });

    it('an unknown keyid refetches the directory at most once per refetchUnknownKeySeconds', async () => {
      const cache = new DirectoryCache(options({ refetchUnknownKeySeconds: 30 }));
      const before = dir.requests;
      await cache.key(dir.origin, jwkThumbprint(alice), Date.now());
      // Bob is published after our fetch; random keyids cannot make us fetch again within 30 s.
      dir.setKeys([alice, bob]);
      expect(await codeOf(() => cache.key(dir.origin, jwkThumbprint(bob), Date.now()))).toBe(
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
      );
      expect(dir.requests - before).toBe(1);
      // 30 s later (the cache's clock is the caller's), an unknown keyid refetches once.
      const later = Date.now() + 31_000;
      expect((await cache.key(dir.origin, jwkThumbprint(bob), later)).thumbprint).toBe(jwkThumbprint(bob));
      expect(dir.requests - before).toBe(2);
    });

    it('a key outside its JWK nbf/exp is refused like an unknown one', async () => {
      const now = Date.now();
      dir.setHandler((_req, res) =>
        serve(res, {
          headers: { 'Content-Type': DIRECTORY_MEDIA_TYPE },
          body: JSON.stringify({
            keys: [
              { ...directoryJwk(alice), exp: Math.floor(now / 1000) - 10 },
              { ...directoryJwk(bob), nbf: Math.floor(now / 1000) + 3600 },
            ],
          }),
        }),
      );
      const cache = new DirectoryCache(options({ signatures: 'verify-if-present' }));
      for (const key of [alice, bob]) {
        expect(await codeOf(() => cache.key(dir.origin, jwkThumbprint(key), now))).toBe(
          'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
        );
      }
    });
  });
});
