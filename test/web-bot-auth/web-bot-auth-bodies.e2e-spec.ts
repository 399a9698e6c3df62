import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { signatureHeaders } from 'http-message-sig';
import { signerFromJWK } from 'web-bot-auth/crypto';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Web Bot Auth requests with a body (G85: "a request body only with a covered
 * content-digest"), and @RequireSignature routes, which ask for a signed request of the
 * app's own clients and so refuse an agent. Signed with Cloudflare's http-message-sig 0.2.0
 * (a signer we did not write) for the configured origin, sent to the app's real address.
 * Every refusal is paired with the same request unaltered, accepted: a refusal cannot come
 * from a broken setup. Promoted from red team 1 (issue 18), where all of these held.
 */
/** The service's configured origin: what every agent signature here names (webBotAuth requires it). */
const SERVICE = 'https://wba.example.test';
/** The minimum a Web Bot Auth signature covers. */
const BASE = ['@authority', 'signature-agent'];
const JSON_BODY = '{"a":1}';

describe.each(ADAPTERS)('Web Bot Auth request bodies on %s', (adapter) => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [agentKey], signing: 'cloudflare' });
    t = await createTestApp({
      adapter,
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: { ca: agent.caPem, allowLoopback: true },
        },
      },
    });
    await t.addUser('crawler', ['reader']);
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  const now = () => Math.floor(Date.now() / 1000);
  const digestOf = (text: string) => `sha-256=:${createHash('sha256').update(text).digest('base64')}:`;

  interface Post {
    path?: string;
    /** The bytes sent. */
    body?: string;
    contentType?: string;
    /** Components the signature covers. */
    components?: string[];
    /** Sends a Content-Digest of this text (none when undefined). */
    digestOf?: string;
  }

  /**
   * POSTs as the agent, signed for SERVICE; a fresh nonce each time, so no request is a replay.
   * Defaults: the accepted request, a JSON body whose covered content-digest matches it.
   */
  async function post(p: Post = {}) {
    const path = p.path ?? '/probe/echo';
    const body = p.body ?? JSON_BODY;
    const headers: Record<string, string> = {
      'Signature-Agent': JSON.stringify(agent.origin),
      'Content-Type': p.contentType ?? 'application/json',
    };
    const digested = 'digestOf' in p ? p.digestOf : body;
    if (digested !== undefined) headers['Content-Digest'] = digestOf(digested);
    const signer = await signerFromJWK(agentKey.export({ format: 'jwk' }));
    const signed: Record<string, string> = {
      ...(await signatureHeaders(new Request(`${SERVICE}${path}`, { method: 'POST', headers }), {
        signer,
        components: p.components ?? [...BASE, 'content-digest'],
        keyid: signer.keyid,
        created: new Date(now() * 1000),
        expires: new Date((now() + 60) * 1000),
        tag: 'web-bot-auth',
        nonce: randomUUID(),
      } as Parameters<typeof signatureHeaders>[1])),
    };
    const res = await fetch(`${t.server}${path}`, {
      method: 'POST',
      headers: { ...headers, ...signed },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** The control: the unaltered request is accepted, so the setup and the signer work. */
  async function expectControlAccepted() {
    expect(await post()).toEqual({ status: 200, body: { a: 1 } });
  }

  it('accepts a body whose covered content-digest matches it', async () => {
    await expectControlAccepted();
  });

  it('refuses a body sent without a content-digest: DIGEST_REQUIRED', async () => {
    await expectControlAccepted();
    const res = await post({ components: BASE, digestOf: undefined });
    expect(res).toMatchObject({ status: 401, body: { code: 'DIGEST_REQUIRED' } });
  });

  it('refuses a content-digest the signature does not cover: DIGEST_REQUIRED', async () => {
    await expectControlAccepted();
    // The digest matches the body, but an unsigned header proves nothing about it.
    const res = await post({ components: BASE });
    expect(res).toMatchObject({ status: 401, body: { code: 'DIGEST_REQUIRED' } });
  });

  it('refuses a body that differs from its signed content-digest: DIGEST_MISMATCH', async () => {
    await expectControlAccepted();
    // The signature (over the digest of {"a":1}) verifies; the body sent is another one.
    const res = await post({ body: '{"a":2}', digestOf: JSON_BODY });
    expect(res).toMatchObject({ status: 401, body: { code: 'DIGEST_MISMATCH' } });
  });

  it('refuses a body whose bytes the app does not keep, even with a covered digest: AUTHENTICATION_FAILED', async () => {
    await expectControlAccepted();
    // Nest keeps rawBody for the body types it parses (JSON, urlencoded), not text/plain:
    // a digest that cannot be checked is refused, with the reason logged.
    for (const components of [BASE, [...BASE, 'content-digest']]) {
      const res = await post({ body: 'hello', contentType: 'text/plain', components });
      expect(res).toMatchObject({ status: 401, body: { code: 'AUTHENTICATION_FAILED' } });
      expect(t.logs.failures().at(-1)).toMatchObject({
        code: 'AUTHENTICATION_FAILED',
        reason: expect.stringContaining('rawBody') as string,
      });
    }
  });

  it('a @RequireSignature route refuses a Web Bot Auth agent: SIGNATURE_REQUIRED', async () => {
    // Everything the route's policy names (nonce, content-type) is covered, and the same
    // signature shape is accepted on a route without @RequireSignature.
    const components = [...BASE, 'content-digest', 'content-type', '@method', '@path'];
    expect(await post({ components })).toEqual({ status: 200, body: { a: 1 } });
    const res = await post({ path: '/probe/strict', components });
    expect(res).toMatchObject({ status: 401, body: { code: 'SIGNATURE_REQUIRED' } });
  });
});
