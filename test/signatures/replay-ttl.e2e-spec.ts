import { signRequest, SignRequestOptions } from '../../src/client';
import { MemoryReplayStore, ReplayStore } from '../../src';
import { send } from '../support/certificates';
import { testKey } from '../support/keys';
import { createTestApp, TestApp } from '../support/test-app';
import { nonce, now, sign } from '../support/tokens';

const SKEW_MS = 20_000;
const MAX_AGE_MS = 300_000;

/**
 * A replay claim must last as long as the credential would still be accepted: a shorter
 * claim lets the same bytes in again. These tests read the TTL each request asked of the
 * replay store, against the end of the window the server applies (docs/SECURITY.md).
 */
describe('replay claims cover the whole acceptance window', () => {
  const ed = testKey('ed25519', 0);
  const rsa = testKey('rsa', 0);
  const claims: { scope: string; ttl: number; at: number }[] = [];
  let t: TestApp;

  beforeAll(async () => {
    const inner = new MemoryReplayStore();
    const recording: ReplayStore = {
      claim: (scope, id, ttl) => {
        claims.push({ scope, ttl, at: Date.now() });
        return inner.claim(scope, id, ttl);
      },
    };
    t = await createTestApp({ adapter: 'express', database: 'sqlite', options: { replayStore: recording } });
    const alice = await t.addUser('alice', ['reader']);
    await t.registry.register(alice, ed.publicPem, { keyId: 'alice-ed' });
    await t.registry.register(alice, rsa.publicPem, { keyId: 'alice-rsa' });
  });
  afterAll(() => t.close());
  beforeEach(() => (claims.length = 0));

  const signed = (path: string, options: Partial<SignRequestOptions>, headers?: Record<string, string>) =>
    signRequest(
      { method: 'GET', url: `${t.server}${path}`, headers },
      {
        keyId: options.format === 'cavage' ? 'alice-rsa' : 'alice-ed',
        privateKey: (options.format === 'cavage' ? rsa : ed).privateKey,
        ...options,
      },
    ).headers;
  const get = (path: string, headers: Record<string, string>) => send(`${t.server}${path}`, { headers });

  it('Cavage: an expires the signature does not cover shortens neither the window nor the claim', async () => {
    const headers = signed('/probe/whoami?ttl=1', { format: 'cavage' });
    const res = await get('/probe/whoami?ttl=1', {
      ...headers,
      signature: `${headers.signature},expires=${now() - 19}`,
    });
    expect(res.status).toBe(200);
    expect(claims).toHaveLength(1);
    // Accepted until Date + maxAge + skew: the claim lasts at least that long.
    expect(claims[0].ttl).toBeGreaterThanOrEqual(MAX_AGE_MS + SKEW_MS - 2_000);
  });

  it('RFC 9421: a signed expires shortens the claim only as far as the window it also shortens', async () => {
    const created = now();
    const res = await get('/probe/whoami?ttl=2', signed('/probe/whoami?ttl=2', { created, expiresIn: 5 }));
    expect(res.status).toBe(200);
    const acceptedUntil = (created + 5) * 1000 + SKEW_MS;
    expect(claims[0].at + claims[0].ttl).toBeGreaterThanOrEqual(acceptedUntil);
    expect(claims[0].ttl).toBeLessThan(5_000 + SKEW_MS + 2_000);
  });

  it('JWT: the claim covers the token until exp + skew', async () => {
    const exp = now() + 60;
    const token = await sign(
      ed.privateKey,
      { alg: 'EdDSA', kid: 'alice-ed' },
      { sub: 'alice', iat: now(), exp, jti: nonce() },
    );
    const res = await get('/probe/whoami', { authorization: `JWT ${token}` });
    expect(res.status).toBe(200);
    expect(claims[0].at + claims[0].ttl).toBeGreaterThanOrEqual(exp * 1000 + SKEW_MS);
  });

  it.each([
    ['day 00', 'Sun, 00 Jan 2023 00:00:00 GMT'],
    ['second 60', () => new Date().toUTCString().replace(/:\d{2} GMT$/, ':60 GMT')],
    [
      'a wrong weekday',
      () => new Date(Date.now() + 86_400_000).toUTCString().slice(0, 5) + new Date().toUTCString().slice(5),
    ],
  ])('an invalid Date (%s) is refused before any claim', async (_what, date) => {
    const value = typeof date === 'string' ? date : date();
    for (const format of ['cavage', 'rfc9421'] as const) {
      const options: Partial<SignRequestOptions> =
        format === 'cavage' ? { format } : { components: ['@method', '@authority', '@path', 'date'] };
      const headers = signed('/probe/whoami', options, { date: value });
      if (format === 'rfc9421') {
        // Without created the Date is the signature's time; the signature itself is never checked.
        headers['signature-input'] = headers['signature-input'].replace(/;created=\d+/, '');
      }
      const res = await get('/probe/whoami', headers);
      expect([format, res.status, res.body.code]).toEqual([format, 401, 'MALFORMED_CREDENTIALS']);
    }
    expect(claims).toHaveLength(0);
  });
});
