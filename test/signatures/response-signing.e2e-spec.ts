import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { importJWK, JWK } from 'jose';
import request from 'supertest';
import { signRequest } from '../../src/client';
import {
  buildSignatureBase,
  HttpMessageView,
  parseRfc9421,
  verifyContentDigest,
  verifyWithAlgorithm,
} from '../../src';
import { testKey } from '../support/keys';
import { SignedProbeController } from '../support/probe.controller';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';

describe.each(ADAPTERS)('signed responses (RFC 9421 §2.4) on %s', (adapter) => {
  let t: TestApp;
  const client = testKey('ed25519', 0);
  const oldServerKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const newServerKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      jwksEndpoint: true,
      controllers: [SignedProbeController],
      options: {
        responseSigning: {
          keys: [
            { keyId: 'server-2026-11', privateKey: newServerKey },
            {
              keyId: 'server-2026-10',
              privateKey: oldServerKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
            },
          ],
        },
      },
    });
    const user = await t.addUser('client', ['reader']);
    await t.registry.register(user, client.publicPem, { keyId: 'c1' });
  });
  afterAll(() => t.close());

  it('publishes every server key at /.well-known/jwks.json, newest first, importable by jose', async () => {
    const res = await request(t.server).get('/.well-known/jwks.json').expect(200);
    expect(res.body.keys.map((k: JWK) => [k.kid, k.alg])).toEqual([
      ['server-2026-11', 'EdDSA'],
      ['server-2026-10', 'ES256'],
    ]);
    for (const jwk of res.body.keys as JWK[]) {
      expect(jwk).not.toHaveProperty('d');
      await expect(importJWK(jwk, jwk.alg)).resolves.toBeDefined();
    }
  });

  it('signs the response with the newest key, binding the request and its signature', async () => {
    const url = `${t.server}/probe/signed-echo`;
    const body = '{"n":1}';
    const { headers } = signRequest(
      { method: 'POST', url, headers: { 'content-type': 'application/json' }, body },
      { keyId: 'c1', privateKey: client.privateKey },
    );
    const res = await request(url).post('').set(headers).send(body);
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"echo":{"n":1}}');

    const responseView: HttpMessageView = {
      status: res.status,
      rawHeaders: Object.entries(res.headers as Record<string, string>).flat(),
    };
    const requestView: HttpMessageView = {
      method: 'POST',
      scheme: 'http',
      authority: new URL(url).host,
      target: '/probe/signed-echo',
      rawHeaders: Object.entries(headers).flat(),
    };
    const [sig] = parseRfc9421(responseView);
    expect(sig.params.keyid).toBe('server-2026-11');
    expect(sig.components.map((c) => c.identifier)).toEqual([
      '"@status"',
      '"content-type"',
      '"content-digest"',
      '"@method";req',
      '"@authority";req',
      '"@path";req',
      '"@query";req',
      '"signature";key="sig1";req',
      '"content-digest";req',
    ]);
    verifyContentDigest(res.headers['content-digest'], Buffer.from(res.text));
    const jwks = (await request(t.server).get('/.well-known/jwks.json')).body.keys as JWK[];
    const publicKey = createPublicKey({ key: jwks[0] as import('node:crypto').JsonWebKey, format: 'jwk' });
    const base = buildSignatureBase(responseView, sig, requestView);
    expect(verifyWithAlgorithm('ed25519', publicKey, base, sig.signature)).toBe(true);

    // The same response does not verify for another request signature.
    const otherRequest = {
      ...requestView,
      rawHeaders: [...requestView.rawHeaders.map((v) => v.replace(/sig1=:[^:]+:/, 'sig1=:AAAA:'))],
    };
    expect(
      verifyWithAlgorithm(
        'ed25519',
        publicKey,
        buildSignatureBase(responseView, sig, otherRequest),
        sig.signature,
      ),
    ).toBe(false);
  });
});

describe('@SignResponse() without keys', () => {
  it('stops the app at startup with the fix in the message', async () => {
    await expect(
      createTestApp({ adapter: 'express', database: 'sqlite', controllers: [SignedProbeController] }),
    ).rejects.toThrow(/@SignResponse\(\) is used but no responseSigning keys are configured/);
  });
});
