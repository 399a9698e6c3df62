import { signRequest } from '../../src/client';
import { send } from '../support/certificates';
import { testKey } from '../support/keys';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * A boundary the threat model (docs/SECURITY.md) states: `@authority` binds a signature
 * to a service only if the service knows its own authority. Without `origin`, it is
 * compared with the Host header, which the client chooses; so a request signed for
 * service A, captured, is accepted once by service B that trusts the same key when it
 * is sent with `Host: A`. With `origin` set, B refuses it.
 */
describe('a signed request for another service that trusts the same key', () => {
  const key = testKey('ed25519', 0);
  const SERVICE_A = 'https://a.example.test';
  let withoutOrigin: TestApp;
  let withOrigin: TestApp;

  beforeAll(async () => {
    [withoutOrigin, withOrigin] = await Promise.all([
      createTestApp({ adapter: 'express', database: 'sqlite' }),
      createTestApp({
        adapter: 'fastify',
        database: 'sqlite',
        options: { origin: 'https://b.example.test' },
      }),
    ]);
    for (const t of [withoutOrigin, withOrigin]) {
      await t.registry.register(await t.addUser('alice', ['reader']), key.publicPem, { keyId: 'alice-ed' });
    }
  });
  afterAll(() => Promise.all([withoutOrigin?.close(), withOrigin?.close()]));

  const capturedFromA = () =>
    signRequest(
      { method: 'GET', url: `${SERVICE_A}/probe/whoami` },
      { keyId: 'alice-ed', privateKey: key.privateKey },
    ).headers;

  it('without origin: accepted once, with Host set to the other service (documented; set origin)', async () => {
    // The test app has no TLS, so here service A is reached over http: what matters is the Host.
    const captured = signRequest(
      { method: 'GET', url: 'http://a.example.test/probe/whoami' },
      { keyId: 'alice-ed', privateKey: key.privateKey },
    ).headers;
    const replayed = () =>
      send(`${withoutOrigin.server}/probe/whoami`, { headers: { ...captured, host: 'a.example.test' } });
    expect((await replayed()).status).toBe(200);
    expect((await replayed()).body.code).toBe('REPLAYED');
  });

  it('with origin: refused, whatever the Host header says', async () => {
    for (const host of ['a.example.test', 'b.example.test']) {
      const res = await send(`${withOrigin.server}/probe/whoami`, { headers: { ...capturedFromA(), host } });
      expect([host, res.status, res.body.code]).toEqual([host, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
    }
  });
});
