import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { signRfc9421 } from '../../src/http-signatures';
import { requestView } from '../../src/client/sign-request';
import { jwkThumbprint } from '../../src/keys/jwk-thumbprint';
import { publicKeyFromPrivate } from '../../src/keys/formats/private-key-loader';
import { signWithAlgorithm } from '../../src/keys/key-algorithm';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Red team 4: `httpSignature.requiredComponents` is documented as "components every signature must
 * also cover" (docs/options.md; docs/SECURITY.md "Require more with httpSignature.requiredComponents"),
 * and docs/web-bot-auth.md lists only @RequireSignature() routes as left out. The Web Bot Auth
 * path never reads it: with requiredComponents ['@method', '@path'], a web-bot-auth signature that
 * covers only @authority and the Signature-Agent member (what Cloudflare's signer covers) is
 * accepted, on any method and path (the RFC 9421 strategy applies it, src/signature-strategy/signature-policy.ts).
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 4: httpSignature.requiredComponents and Web Bot Auth', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const key = generateKeyPairSync('ed25519').privateKey;
  const keyid = jwkThumbprint(publicKeyFromPrivate(key));

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [key], signing: 'cloudflare' });
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        httpSignature: { requiredComponents: ['@method', '@path'] },
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: { ca: agent.caPem, allowLoopback: true },
        },
      } as never,
    });
    await t.addUser('crawler', ['reader']);
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  async function send(components: { name: string; params?: Record<string, string> }[]) {
    const created = Math.floor(Date.now() / 1000);
    const signatureAgent = `sig1="${agent.origin}"`;
    const headers = { 'signature-agent': signatureAgent };
    const s = signRfc9421(requestView('GET', new URL(`${SERVICE}/probe/whoami`), headers), {
      label: 'sig1',
      components,
      params: {
        created,
        keyid,
        alg: 'ed25519',
        expires: created + 60,
        nonce: randomBytes(16).toString('hex'),
        tag: 'web-bot-auth',
      },
      sign: (data) => signWithAlgorithm('ed25519', key, data),
    });
    const res = await fetch(`${t.server}/probe/whoami`, {
      headers: { ...headers, 'signature-input': s.signatureInput, signature: s.signature },
    });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, who: body.username ?? body.code };
  }

  it('control: covering @method, @authority, @path and the member is accepted', async () => {
    expect(
      await send([
        { name: '@method' },
        { name: '@authority' },
        { name: '@path' },
        { name: 'signature-agent', params: { key: 'sig1' } },
      ]),
    ).toEqual({ status: 200, who: 'crawler' });
  });

  it('covering only @authority and the member (no @method, no @path) is refused', async () => {
    const res = await send([{ name: '@authority' }, { name: 'signature-agent', params: { key: 'sig1' } }]);
    expect(res.status).toBe(401);
  });
});
