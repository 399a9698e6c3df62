import { createHmac, randomBytes } from 'node:crypto';
import request from 'supertest';
import { signRequest, SignRequestOptions } from '../../src/client';
import { testKey, TestKeyPair } from '../support/keys';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { DATABASES } from '../support/test-database';

const combos = ADAPTERS.flatMap((adapter) => DATABASES.map((database) => [adapter, database] as const));
const HMAC_SECRET = randomBytes(32);

describe.each(combos)('HTTP message signatures on %s + %s', (adapter, database) => {
  let t: TestApp;
  const ed = testKey('ed25519', 0);
  const p256 = testKey('p256', 0);
  const p384 = testKey('p384', 0);
  const rsa = testKey('rsa', 0);
  const pss = testKey('rsa', 1);
  const other = testKey('ed25519', 1);

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database,
      options: {
        httpSignature: {
          hmacKeys: { 'shared-1': { secret: HMAC_SECRET, username: 'sig', roles: ['reader'] } },
        },
      },
    });
    const user = await t.addUser('sig', ['reader', 'admin']);
    await t.registry.register(user, ed.publicPem, { keyId: 'ed' });
    await t.registry.register(user, p256.publicPem, { keyId: 'p256' });
    await t.registry.register(user, p384.publicPem, { keyId: 'p384' });
    await t.registry.register(user, rsa.publicPem, { keyId: 'rsa' });
    await t.registry.register(user, pss.publicPem, { keyId: 'pss', algorithm: 'rsa-pss-sha512' });
  });
  afterAll(() => t.close());

  type Send = { method?: 'GET' | 'POST'; path?: string; body?: string; headers?: Record<string, string> };
  const signed = (send: Send, key: TestKeyPair, opts: Partial<SignRequestOptions> & { keyId: string }) => {
    const method = send.method ?? (send.body !== undefined ? 'POST' : 'GET');
    const url = `${t.server}${send.path ?? (method === 'POST' ? '/probe/echo' : '/probe/whoami')}`;
    const headers = {
      ...(send.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...send.headers,
    };
    return {
      method,
      url,
      headers: signRequest({ method, url, headers, body: send.body }, { privateKey: key.privateKey, ...opts })
        .headers,
      body: send.body,
    };
  };
  const go = (
    r: { method: string; url: string; headers: Record<string, string>; body?: string },
    override: Partial<{ body: string; url: string }> = {},
  ) => {
    const req =
      r.method === 'POST' ? request(override.url ?? r.url).post('') : request(override.url ?? r.url).get('');
    req.set(r.headers);
    const body = override.body ?? r.body;
    return body !== undefined ? req.send(body) : req;
  };
  const expectCode = async (res: request.Response, status: number, code: string) => {
    expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  };

  describe('accepts', () => {
    it.each([
      ['Ed25519', ed, 'ed'],
      ['ECDSA P-256', p256, 'p256'],
      ['ECDSA P-384', p384, 'p384'],
      ['RSA v1.5', rsa, 'rsa'],
      ['RSA-PSS', pss, 'pss'],
    ] as const)('RFC 9421 GET with %s', async (_n, key, keyId) => {
      const res = await go(
        signed({}, key, { keyId, algorithm: keyId === 'pss' ? 'rsa-pss-sha512' : undefined }),
      );
      expect([res.status, res.body]).toEqual([
        200,
        { username: 'sig', keyId, method: 'http-signature-rfc9421', roles: ['reader', 'admin'] },
      ]);
    });

    it('RFC 9421 POST with a Content-Digest, and alg stated', async () => {
      const res = await go(
        signed({ body: '{"hello":"world"}' }, ed, { keyId: 'ed', includeAlg: true, digest: 'sha-512' }),
      );
      expect([res.status, res.body]).toEqual([200, { hello: 'world' }]);
    });

    it('RFC 9421 with a query covered by @query', async () => {
      const res = await go(signed({ path: '/probe/whoami?b=2&a=1' }, ed, { keyId: 'ed' }));
      expect(res.status).toBe(200);
    });

    it('RFC 9421 hmac-sha256 with a configured shared secret, with its role subset', async () => {
      const url = `${t.server}/probe/whoami`;
      const created = Math.floor(Date.now() / 1000);
      const host = new URL(url).host;
      const params = `("@method" "@authority" "@path");created=${created};keyid="shared-1";alg="hmac-sha256"`;
      const base = `"@method": GET\n"@authority": ${host}\n"@path": /probe/whoami\n"@signature-params": ${params}`;
      const sig = createHmac('sha256', HMAC_SECRET).update(base).digest('base64');
      const res = await request(url)
        .get('')
        .set({ 'Signature-Input': `sig1=${params}`, Signature: `sig1=:${sig}:` });
      expect([res.status, res.body.roles, res.body.keyId]).toEqual([200, ['reader'], 'shared-1']);
    });

    it('Cavage hs2019 in a Signature header, GET and POST with Digest (fediverse style)', async () => {
      const get = await go(signed({}, rsa, { keyId: 'rsa', format: 'cavage' }));
      expect([get.status, get.body.method]).toEqual([200, 'http-signature-cavage']);
      const post = await go(signed({ body: '{"type":"Follow"}' }, rsa, { keyId: 'rsa', format: 'cavage' }));
      expect([post.status, post.body]).toEqual([200, { type: 'Follow' }]);
    });

    it('Cavage in Authorization: Signature with an ECDSA key', async () => {
      const r = signed({}, p256, { keyId: 'p256', format: 'cavage' });
      r.headers = { ...r.headers, authorization: `Signature ${r.headers.signature}` };
      delete (r.headers as Record<string, string | undefined>).signature;
      const res = await go(r);
      expect([res.status, res.body.method]).toEqual([200, 'http-signature-cavage']);
    });

    it('a route that tightens the policy: nonce and content-type required', async () => {
      const ok = await go(signed({ method: 'POST', path: '/probe/strict', body: '{}' }, ed, { keyId: 'ed' }));
      expect(ok.status).toBe(200);
      const noNonce = await go(
        signed({ method: 'POST', path: '/probe/strict', body: '{}' }, ed, { keyId: 'ed', nonce: false }),
      );
      await expectCode(noNonce, 401, 'SIGNATURE_COVERAGE_INSUFFICIENT');
      const noType = await go(
        signed({ method: 'POST', path: '/probe/strict', body: '{}' }, ed, {
          keyId: 'ed',
          components: ['@method', '@authority', '@path', 'content-digest'],
        }),
      );
      await expectCode(noType, 401, 'SIGNATURE_COVERAGE_INSUFFICIENT');
    });
  });

  describe('refuses', () => {
    it('a changed body under the old digest', async () => {
      const r = signed({ body: '{"amount":1}' }, ed, { keyId: 'ed' });
      await expectCode(await go(r, { body: '{"amount":9}' }), 401, 'DIGEST_MISMATCH');
    });

    it('a body whose digest is not covered', async () => {
      const r = signed({ body: '{"a":1}' }, ed, {
        keyId: 'ed',
        components: ['@method', '@authority', '@path'],
      });
      await expectCode(await go(r), 401, 'DIGEST_REQUIRED');
    });

    it('a body with no digest at all (Cavage)', async () => {
      const r = signed({}, rsa, { keyId: 'rsa', format: 'cavage' });
      await expectCode(
        await go({ ...r, method: 'POST', url: `${t.server}/probe/echo` }, { body: '{"x":1}' }),
        401,
        'DIGEST_REQUIRED',
      );
    });

    it('a signature over an empty component list, and one without @method', async () => {
      await expectCode(
        await go(signed({}, ed, { keyId: 'ed', components: [] })),
        401,
        'SIGNATURE_COVERAGE_INSUFFICIENT',
      );
      await expectCode(
        await go(signed({}, ed, { keyId: 'ed', components: ['@authority', '@path'] })),
        401,
        'SIGNATURE_COVERAGE_INSUFFICIENT',
      );
    });

    it('a query that is not covered, and one that was reordered', async () => {
      const stripped = signed({ path: '/probe/whoami?admin=1' }, ed, {
        keyId: 'ed',
        components: ['@method', '@authority', '@path'],
      });
      await expectCode(await go(stripped), 401, 'SIGNATURE_COVERAGE_INSUFFICIENT');
      const r = signed({ path: '/probe/whoami?a=1&b=2' }, ed, { keyId: 'ed' });
      await expectCode(
        await go(r, { url: `${t.server}/probe/whoami?b=2&a=1` }),
        401,
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
      );
    });

    it('an old, a future, and an expired signature', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectCode(await go(signed({}, ed, { keyId: 'ed', created: now - 400 })), 401, 'TOKEN_EXPIRED');
      await expectCode(
        await go(signed({}, ed, { keyId: 'ed', created: now + 120 })),
        401,
        'TOKEN_NOT_YET_VALID',
      );
      await expectCode(
        await go(signed({}, ed, { keyId: 'ed', created: now - 100, expiresIn: 30 })),
        401,
        'TOKEN_EXPIRED',
      );
    });

    it('a replayed nonce, and a replayed signature without nonce', async () => {
      const r = signed({}, ed, { keyId: 'ed' });
      expect((await go(r)).status).toBe(200);
      await expectCode(await go(r), 401, 'REPLAYED');
      // RSA v1.5 is deterministic: a Cavage signature over the same second, path and key is the same bytes.
      const c = signed({ path: '/probe/whoami?replay=1' }, rsa, { keyId: 'rsa', format: 'cavage' });
      expect((await go(c)).status).toBe(200);
      await expectCode(await go(c), 401, 'REPLAYED');
    });

    it('a replay with the ECDSA signature re-encoded (s → n − s) is still a replay', async () => {
      const r = signed({ path: '/probe/whoami?malleable=1' }, p256, { keyId: 'p256', nonce: false });
      expect((await go(r)).status).toBe(200);
      const sig = Buffer.from(/sig1=:([^:]+):/.exec(r.headers.signature)![1], 'base64');
      const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
      const s2 = n - BigInt(`0x${sig.subarray(32).toString('hex')}`);
      const flipped = Buffer.concat([
        sig.subarray(0, 32),
        Buffer.from(s2.toString(16).padStart(64, '0'), 'hex'),
      ]);
      const replay = { ...r, headers: { ...r.headers, signature: `sig1=:${flipped.toString('base64')}:` } };
      await expectCode(await go(replay), 401, 'REPLAYED');
    });

    it('an alg that differs from the stored key, like an unknown key', async () => {
      const r = signed({}, ed, { keyId: 'ed', includeAlg: true, algorithm: 'ed25519' });
      r.headers['signature-input'] = r.headers['signature-input'].replace(
        'alg="ed25519"',
        'alg="ecdsa-p256-sha256"',
      );
      const mismatch = await go(r);
      await expectCode(mismatch, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
      const unknown = await go(signed({}, other, { keyId: 'nobody' }));
      expect(unknown.body).toEqual(mismatch.body);
    });

    it('HMAC keyed with a registered public key', async () => {
      const url = `${t.server}/probe/whoami`;
      const created = Math.floor(Date.now() / 1000);
      const params = `("@method" "@authority" "@path");created=${created};keyid="ed";alg="hmac-sha256"`;
      const base = `"@method": GET\n"@authority": ${new URL(url).host}\n"@path": /probe/whoami\n"@signature-params": ${params}`;
      const sig = createHmac('sha256', ed.publicPem).update(base).digest('base64');
      const res = await request(url)
        .get('')
        .set({ 'Signature-Input': `sig1=${params}`, Signature: `sig1=:${sig}:` });
      // The answer of a wrong signature under a real shared secret: keyids do not tell what they are.
      await expectCode(res, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    });

    it('a Cavage algorithm that differs from the key, and one never accepted', async () => {
      const r = signed({}, ed, { keyId: 'ed', format: 'cavage' });
      await expectCode(
        await go({
          ...r,
          headers: { ...r.headers, signature: r.headers.signature.replace('hs2019', 'rsa-sha256') },
        }),
        401,
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
      );
      await expectCode(
        await go({
          ...r,
          headers: { ...r.headers, signature: r.headers.signature.replace('hs2019', 'hmac-sha256') },
        }),
        401,
        'ALGORITHM_NOT_ALLOWED',
      );
    });

    it('a duplicated Signature-Input label, a malformed structured field, a 20 KB header, bad base64', async () => {
      const r = signed({}, ed, { keyId: 'ed' });
      const dup = await request(r.url)
        .get('')
        .set('Signature', r.headers.signature)
        .set('Signature-Input', [
          r.headers['signature-input'],
          r.headers['signature-input'],
        ] as unknown as string);
      await expectCode(dup, 401, 'MALFORMED_CREDENTIALS');
      await expectCode(
        await go({ ...r, headers: { ...r.headers, 'signature-input': 'sig1=("@method" ;;created=1' } }),
        401,
        'MALFORMED_CREDENTIALS',
      );
      await expectCode(
        await go({ ...r, headers: { ...r.headers, signature: `sig1=:${'A'.repeat(20_000)}:` } }),
        401,
        'MALFORMED_CREDENTIALS',
      );
      await expectCode(
        await go({ ...r, headers: { ...r.headers, signature: 'sig1=:not*base64:' } }),
        401,
        'MALFORMED_CREDENTIALS',
      );
    });

    it('a signature for another authority', async () => {
      const r = signed({}, ed, { keyId: 'ed' });
      const res = await request(r.url).get('').set(r.headers).set('Host', 'evil.example');
      await expectCode(res, 401, 'KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    });

    it('401s carry WWW-Authenticate and Accept-Signature', async () => {
      const res = await request(`${t.server}/probe/whoami`).get('');
      expect(res.headers['www-authenticate']).toMatch(/Signature realm=/);
      expect(res.headers['accept-signature']).toMatch(/"@method"/);
    });
  });
});
