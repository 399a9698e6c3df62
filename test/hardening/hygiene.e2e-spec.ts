import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { AllowCaching, KeypairAuthGuard, Public } from '../../src';
import { signRequest } from '../../src/client';
import { rawRequest } from '../attacks/attack-harness';
import { send, SendResult } from '../support/certificates';
import { testKey } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { seedClaims, sign } from '../support/tokens';

@Controller('hygiene')
@UseGuards(KeypairAuthGuard)
class HygieneController {
  @Get('private')
  private(): { ok: true } {
    return { ok: true };
  }

  @AllowCaching()
  @Get('cacheable')
  cacheable(): { ok: true } {
    return { ok: true };
  }

  @AllowCaching()
  @Header('Cache-Control', 'private, max-age=60')
  @Get('own')
  own(): { ok: true } {
    return { ok: true };
  }

  @Public()
  @Get('public')
  open(): { ok: true } {
    return { ok: true };
  }
}

/** Headers that differ between any two responses (time, connection bookkeeping). */
const VOLATILE = new Set(['date', 'keep-alive', 'connection']);
const comparable = (res: SendResult) => ({
  status: res.status,
  text: res.text,
  headers: Object.fromEntries(Object.entries(res.headers).filter(([name]) => !VOLATILE.has(name))),
});

describe.each(ADAPTERS)('response hygiene on %s', (adapter) => {
  let t: TestApp;
  const ed = testKey('ed25519', 0);
  const rsa = testKey('rsa', 0);
  const other = testKey('ed25519', 1);
  const otherRsa = testKey('rsa', 1);

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      controllers: [HygieneController],
      options: { clientCertificate: { format: 'nginx', trustedProxies: ['127.0.0.1'] } },
    });
    const alice = await t.addUser('alice', ['reader']);
    await t.registry.register(alice, ed.publicPem, { keyId: 'alice-ed' });
    await t.registry.register(alice, rsa.publicPem, { keyId: 'alice-rsa' });
  });
  afterAll(() => t.close());

  const jwt = async (key = ed, kid = 'alice-ed') =>
    `JWT ${await sign(key.privateKey, { alg: 'EdDSA', kid }, seedClaims('alice'))}`;
  const get = async (path: string, headers: Record<string, string> | string[] = {}) =>
    send(`${t.server}${path}`, { headers });

  describe('Cache-Control', () => {
    it('authenticated responses are no-store unless the route opts out with @AllowCaching()', async () => {
      const priv = await get('/hygiene/private', { authorization: await jwt() });
      expect([priv.status, priv.headers['cache-control']]).toEqual([200, 'no-store']);
      const whoami = await get('/probe/whoami', { authorization: await jwt() });
      expect(whoami.headers['cache-control']).toBe('no-store');
      const cacheable = await get('/hygiene/cacheable', { authorization: await jwt() });
      expect([cacheable.status, cacheable.headers['cache-control']]).toEqual([200, undefined]);
      const own = await get('/hygiene/own', { authorization: await jwt() });
      expect([own.status, own.headers['cache-control']]).toEqual([200, 'private, max-age=60']);
    });

    it('refusals are no-store; public routes are left alone', async () => {
      expect((await get('/hygiene/private')).headers['cache-control']).toBe('no-store');
      expect((await get('/hygiene/cacheable', { authorization: 'JWT a.b.c' })).headers['cache-control']).toBe(
        'no-store',
      );
      expect((await get('/hygiene/public')).headers['cache-control']).toBeUndefined();
    });
  });

  describe('a 401 does not tell whether a key exists', () => {
    it('JWT: an unknown kid and a known kid with a bad signature get the same response, headers included', async () => {
      const unknown = await get('/probe/whoami', { authorization: await jwt(other, 'nobody') });
      const forged = await get('/probe/whoami', { authorization: await jwt(other, 'alice-ed') });
      expect(unknown.body.code).toBe('KEY_UNKNOWN_OR_SIGNATURE_INVALID');
      expect(comparable(forged)).toEqual(comparable(unknown));
    });

    it('RFC 9421 and Cavage: the same, byte for byte', async () => {
      const url = `${t.server}/probe/whoami`;
      for (const format of ['rfc9421', 'cavage'] as const) {
        const key = format === 'cavage' ? otherRsa : other;
        const known = format === 'cavage' ? 'alice-rsa' : 'alice-ed';
        const unknown = await get(
          '/probe/whoami',
          signRequest({ method: 'GET', url }, { keyId: 'nobody', privateKey: key.privateKey, format })
            .headers,
        );
        const forged = await get(
          '/probe/whoami',
          signRequest({ method: 'GET', url }, { keyId: known, privateKey: key.privateKey, format }).headers,
        );
        expect([format, unknown.body.code]).toEqual([format, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']);
        expect(comparable(forged)).toEqual(comparable(unknown));
      }
    });

    it('an algorithm other than the key’s looks like an unknown key too', async () => {
      const unknown = await get('/probe/whoami', { authorization: await jwt(other, 'nobody') });
      const wrongAlg = await get('/probe/whoami', {
        authorization: `JWT ${await sign(rsa.privateKey, { alg: 'RS256', kid: 'alice-ed' }, seedClaims('alice'))}`,
      });
      expect(comparable(wrongAlg)).toEqual(comparable(unknown));
    });
  });

  describe('errors never echo what the attacker sent', () => {
    const SCRIPT = '<script>alert(1)</script>';
    const QUOTES = '"},"admin":true,"x":{"';
    const hostile = `${SCRIPT}${QUOTES}\u2028\u0085`;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

    const attempts = (): [string, string, Record<string, string> | string[]][] => [
      [
        'a JWT kid',
        '/probe/whoami',
        { authorization: `JWT ${b64({ alg: 'EdDSA', kid: hostile })}.${b64(seedClaims(hostile))}.AAAA` },
      ],
      [
        'a JWT alg',
        '/probe/whoami',
        { authorization: `JWT ${b64({ alg: hostile })}.${b64(seedClaims('alice'))}.AAAA` },
      ],
      ['an Authorization scheme', '/probe/whoami', { authorization: `${SCRIPT} ${QUOTES}` }],
      ['a Bearer token', '/probe/whoami', { authorization: `Bearer ${SCRIPT}${QUOTES}` }],
      [
        'an RFC 9421 keyid',
        '/probe/whoami',
        { 'signature-input': `sig1=("@method");created=1;keyid="${SCRIPT}\\"}"`, signature: 'sig1=:AAAA:' },
      ],
      [
        'an RFC 9421 alg',
        '/probe/whoami',
        {
          'signature-input': `sig1=("@method" "@authority" "@path");created=${Math.floor(Date.now() / 1000)};alg="${SCRIPT}";keyid="k"`,
          signature: 'sig1=:AAAA:',
        },
      ],
      [
        'a Cavage keyId and algorithm',
        '/probe/whoami',
        { signature: `keyId="${SCRIPT}",algorithm="${SCRIPT}",signature="AAAA"` },
      ],
      [
        'a certificate header from the trusted proxy',
        '/probe/whoami',
        ['X-SSL-Client-Escaped-Cert', encodeURIComponent(hostile), 'X-SSL-Client-Verify', 'SUCCESS'],
      ],
      [
        'the proxy verdict',
        '/probe/whoami',
        ['X-SSL-Client-Escaped-Cert', 'x', 'X-SSL-Client-Verify', `FAILED:${SCRIPT}${QUOTES}`],
      ],
      [
        'the path and query',
        `/probe/whoami?q=${encodeURIComponent(hostile)}&x=%0d%0aSet-Cookie:%20evil=1`,
        {},
      ],
    ];

    it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])(
      'attempt %i: no raw echo in body or headers, the body is our JSON',
      async (i) => {
        const [what, path, headers] = attempts()[i];
        const res = await get(path, headers);
        const everything = `${res.text}\n${JSON.stringify(res.headers)}`;
        expect([what, res.status >= 400 && res.status < 500]).toEqual([what, true]);
        for (const needle of [SCRIPT, QUOTES, '"admin":true', '<script', 'evil=1'])
          expect([what, everything.includes(needle)]).toEqual([what, false]);
        expect(res.headers['set-cookie']).toBeUndefined();
        expect(Object.keys(JSON.parse(res.text) as object).sort()).toEqual([
          'code',
          'error',
          'message',
          'statusCode',
        ]);
      },
    );

    it('CR/LF in a header value cannot inject a response header', async () => {
      const port = Number(new URL(t.server).port);
      const injected = await rawRequest(
        port,
        `GET /probe/whoami HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: JWT a\rX-Injected: 1\r\nConnection: close\r\n\r\n`,
      );
      expect(injected.status).toBe(400); // Node's parser refuses a bare CR before the app runs
      const folded = await rawRequest(
        port,
        `GET /probe/whoami HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: JWT a\r\n X-Injected: 1\r\nConnection: close\r\n\r\n`,
      );
      expect([400, 401]).toContain(folded.status);
      for (const res of [injected, folded])
        expect(`${res.headers.raw}\n${res.text}`).not.toMatch(/x-injected/i);
    });
  });
});
