import { signRequest, SignRequestOptions } from '../../src/client';
import { rawRequest } from '../attacks/attack-harness';
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
  const rsa = testKey('rsa', 0);
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
      const alice = await t.addUser('alice', ['reader']);
      await t.registry.register(alice, key.publicPem, { keyId: 'alice-ed' });
      await t.registry.register(alice, rsa.publicPem, { keyId: 'alice-rsa' });
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

  /** Headers of a GET of /probe/whoami?`query` signed by alice for `origin`. */
  const signedFor = (origin: string, options: Partial<SignRequestOptions> = {}, headers = {}, query = '') =>
    signRequest(
      { method: 'GET', url: `${origin}/probe/whoami${query}`, headers },
      { keyId: 'alice-ed', privateKey: key.privateKey, ...options },
    ).headers;
  const BINDINGS: [string, Partial<SignRequestOptions>, Record<string, string>][] = [
    ['@authority', {}, {}],
    ['the host field', { components: ['@method', 'host', '@path', '@query'] }, { host: 'b.example.test' }],
    ['@target-uri', { components: ['@method', '@target-uri'] }, {}],
    ['Cavage (request-target) host date', { format: 'cavage', keyId: 'alice-rsa' }, {}],
  ];

  it.each(BINDINGS)(
    'with origin: a request signed for this service over %s is accepted whatever Host the proxy sends',
    async (_binding, options, headers) => {
      const privateKey = options.format === 'cavage' ? rsa.privateKey : key.privateKey;
      for (const host of ['b.example.test', 'backend.internal:3000']) {
        // A query per Host: Cavage has no nonce, and the same signed bytes are single-use.
        const query = `?via=${host}`;
        const signed = signedFor('https://b.example.test', { ...options, privateKey }, headers, query);
        const res = await send(`${withOrigin.server}/probe/whoami${query}`, { headers: { ...signed, host } });
        expect([host, res.status, res.body.code]).toEqual([host, 200, undefined]);
      }
    },
  );

  it.each(BINDINGS)(
    'with origin: a request signed for another service over %s is refused, whatever the Host header says',
    async (_binding, options, headers) => {
      const privateKey = options.format === 'cavage' ? rsa.privateKey : key.privateKey;
      for (const host of ['a.example.test', 'b.example.test']) {
        const signed = signedFor(
          SERVICE_A,
          { ...options, privateKey },
          { ...headers, host: 'a.example.test' },
        );
        const res = await send(`${withOrigin.server}/probe/whoami`, { headers: { ...signed, host } });
        expect([host, res.status, res.body.code]).toEqual([host, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
      }
    },
  );

  it('with origin: an absolute-form request line is refused, whichever service it names; @target-uri is origin + path + query', async () => {
    const port = Number(new URL(withOrigin.server).port);
    const request = (target: string, signed: Record<string, string>) =>
      rawRequest(
        port,
        `GET ${target} HTTP/1.1\r\n${Object.entries({
          ...signed,
          host: 'a.example.test',
          connection: 'close',
        })
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('')}\r\n`,
      );
    const options = { components: ['@method', '@target-uri'] };
    for (const service of [SERVICE_A, 'https://b.example.test']) {
      const res = await request(`${service}/probe/whoami`, signedFor(service, options));
      expect([service, res.status, res.body.code]).toEqual([service, 400, 'REQUEST_TARGET_INVALID']);
    }
    expect((await request('/probe/whoami', signedFor(SERVICE_A, options))).body.code).toBe(
      'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
    );
    expect((await request('/probe/whoami', signedFor('https://b.example.test', options))).status).toBe(200);
  });

  it('with origin: refused, whatever the Host header says', async () => {
    for (const host of ['a.example.test', 'b.example.test']) {
      const res = await send(`${withOrigin.server}/probe/whoami`, { headers: { ...capturedFromA(), host } });
      expect([host, res.status, res.body.code]).toEqual([host, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
    }
  });
});
