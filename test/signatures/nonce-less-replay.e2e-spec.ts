import request from 'supertest';
import { signRequest, SignRequestOptions } from '../../src/client';
import { testKey } from '../support/keys';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * What docs/replay-protection.md says is single-use, for a client that sends no nonce: the
 * signed content (the signature base, or Cavage's signing string), per key. `created` and
 * `Date` count whole seconds, so a poller that signs the same request twice in one second
 * sends the same content twice, and the second is a replay whatever the signature bytes
 * (ECDSA signs each time anew). A nonce, or for Cavage a covered header that changes per
 * request, keeps them apart.
 */
describe('identical requests signed in the same second by a client that sends no nonce', () => {
  let t: TestApp;
  const p256 = testKey('p256', 0);
  const rsa = testKey('rsa', 0);
  let path = 0;

  beforeAll(async () => {
    t = await createTestApp({ adapter: 'express', database: 'sqlite' });
    const alice = await t.addUser('alice', ['reader']);
    await t.registry.register(alice, p256.publicPem, { keyId: 'alice-p256' });
    await t.registry.register(alice, rsa.publicPem, { keyId: 'alice-rsa' });
  });
  afterAll(() => t?.close());

  /** A fresh route per test (its query), so one test's requests are never another's replays. */
  const nextUrl = () => `${t.server}/probe/whoami?poll=${++path}`;
  const send = (url: string, headers: Record<string, string>) =>
    request(t.server)
      .get(url.slice(t.server.length))
      .set(headers)
      .then((res) => ({ status: res.status, code: (res.body as { code?: string }).code }));
  const sign = (url: string, options: Partial<SignRequestOptions>, headers: Record<string, string> = {}) =>
    signRequest(
      { method: 'GET', url, headers },
      { keyId: 'alice-p256', privateKey: p256.privateKey, ...options },
    ).headers;

  it('RFC 9421 without a nonce: the second is 401 REPLAYED, though its ECDSA signature bytes differ', async () => {
    const url = nextUrl();
    const created = Math.floor(Date.now() / 1000);
    const first = sign(url, { nonce: false, created });
    const second = sign(url, { nonce: false, created });
    expect(second.signature).not.toBe(first.signature);
    expect(second['signature-input']).toBe(first['signature-input']);
    expect(await send(url, first)).toEqual({ status: 200, code: undefined });
    expect(await send(url, second)).toEqual({ status: 401, code: 'REPLAYED' });
  });

  it('RFC 9421 with distinct nonces: both 200', async () => {
    const url = nextUrl();
    const created = Math.floor(Date.now() / 1000);
    expect(await send(url, sign(url, { nonce: 'poll-1', created }))).toEqual({
      status: 200,
      code: undefined,
    });
    expect(await send(url, sign(url, { nonce: 'poll-2', created }))).toEqual({
      status: 200,
      code: undefined,
    });
  });

  it('RFC 9421 without a nonce, signed in different seconds: both 200', async () => {
    const url = nextUrl();
    const now = Math.floor(Date.now() / 1000);
    expect(await send(url, sign(url, { nonce: false, created: now - 1 }))).toEqual({
      status: 200,
      code: undefined,
    });
    expect(await send(url, sign(url, { nonce: false, created: now }))).toEqual({
      status: 200,
      code: undefined,
    });
  });

  it('Cavage (no nonce): the second is 401 REPLAYED; covering an X-Request-Id that changes makes both 200', async () => {
    const cavage = (url: string, created: number, id?: string) =>
      signRequest(
        { method: 'GET', url, headers: id ? { 'x-request-id': id } : {} },
        {
          keyId: 'alice-rsa',
          privateKey: rsa.privateKey,
          format: 'cavage',
          created,
          ...(id ? { components: ['(request-target)', 'host', 'date', 'x-request-id'] } : {}),
        },
      ).headers;
    const created = Math.floor(Date.now() / 1000);
    const url = nextUrl();
    expect(await send(url, cavage(url, created))).toEqual({ status: 200, code: undefined });
    expect(await send(url, cavage(url, created))).toEqual({ status: 401, code: 'REPLAYED' });
    const other = nextUrl();
    expect(await send(other, cavage(other, created, 'req-1'))).toEqual({ status: 200, code: undefined });
    expect(await send(other, cavage(other, created, 'req-2'))).toEqual({ status: 200, code: undefined });
  });
});
