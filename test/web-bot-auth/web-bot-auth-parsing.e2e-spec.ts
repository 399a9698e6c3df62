import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { signatureHeaders } from 'http-message-sig';
import { signerFromJWK } from 'web-bot-auth/crypto';
import { ADAPTERS, createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Odd Signature-Agent values (G86) and the key oracle (G87), over real HTTP on the real
 * module. Every value here is signed by the agent's own key, so only the parsing decides:
 * a value that is not one https origin (or its directory URL) is 400, none is ever 5xx, and
 * none is attributed to an agent it does not name. A keyid missing from the directory, a bad
 * signature and an alg other than the key's answer byte for byte alike, so a stranger learns
 * nothing about which keys an agent has. Signed with Cloudflare's http-message-sig 0.2.0 for
 * the configured origin; every refusal is paired with the unaltered request, accepted.
 * Promoted from red team 1 (issue 18), where all of these held.
 */
/** The service's configured origin: what every agent signature here names (webBotAuth requires it). */
const SERVICE = 'https://wba.example.test';
const DIRECTORY_PATH = '/.well-known/http-message-signatures-directory';

describe.each(ADAPTERS)('Web Bot Auth Signature-Agent parsing and key oracle on %s', (adapter) => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  const strangerKey = generateKeyPairSync('ed25519').privateKey;

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

  interface Signing {
    /** The Signature-Agent field value (default: the agent's origin as an sf-string). */
    signatureAgent?: string;
    key?: KeyObject;
    /** Extra signature parameters (alg, …). */
    params?: Record<string, unknown>;
    /** Flip one character of the signature after signing. */
    tamper?: boolean;
  }

  /** GET /probe/whoami signed for SERVICE, sent to the app: status, code, body and the headers that do not vary. */
  async function whoami(s: Signing = {}) {
    const headers = { 'Signature-Agent': s.signatureAgent ?? JSON.stringify(agent.origin) };
    const signer = await signerFromJWK((s.key ?? agentKey).export({ format: 'jwk' }));
    const signed: Record<string, string> = {
      ...(await signatureHeaders(new Request(`${SERVICE}/probe/whoami`, { headers }), {
        signer,
        components: ['@authority', 'signature-agent'],
        keyid: signer.keyid,
        created: new Date(now() * 1000),
        expires: new Date((now() + 60) * 1000),
        tag: 'web-bot-auth',
        // A fresh nonce: the same request twice in one second would be a replay.
        nonce: randomUUID(),
        ...s.params,
      } as Parameters<typeof signatureHeaders>[1])),
    };
    if (s.tamper) {
      signed.Signature = signed.Signature.replace(/:(.)/, (_, c: string) => `:${c === 'A' ? 'B' : 'A'}`);
    }
    const res = await fetch(`${t.server}/probe/whoami`, { headers: { ...headers, ...signed } });
    const kept: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!['date', 'x-request-id', 'content-length', 'connection', 'keep-alive'].includes(name)) {
        kept[name] = value;
      }
    });
    const text = await res.text();
    return { status: res.status, code: (JSON.parse(text) as { code?: string }).code, text, headers: kept };
  }

  /** The agent a 200 was attributed to. */
  const attributedOrigin = (text: string) => (JSON.parse(text) as { agent: { origin: string } }).agent.origin;

  /** The control: the agent's origin as Cloudflare's signer names it is accepted. */
  async function expectControlAccepted() {
    const res = await whoami();
    expect(res.status).toBe(200);
    expect(attributedOrigin(res.text)).toBe(agent.origin);
  }

  it('accepts the agent named as an origin, as a dictionary member, or by its directory URL', async () => {
    const o = agent.origin;
    for (const s of [
      { signatureAgent: JSON.stringify(o) },
      // The whole field covered: http-message-sig 0.2.0 cannot sign one member (;key=); our own
      // signer's member form is tested in agent-signer.e2e-spec.ts.
      { signatureAgent: `sig1="${o}"` },
      { signatureAgent: `sig1="${o}${DIRECTORY_PATH}"` },
    ]) {
      const res = await whoami(s);
      expect({ value: s.signatureAgent, status: res.status }).toEqual({
        value: s.signatureAgent,
        status: 200,
      });
      expect(attributedOrigin(res.text)).toBe(o);
    }
  });

  it('refuses a Signature-Agent that is not one https origin or its directory URL: WEB_BOT_AUTH_AGENT_INVALID', async () => {
    await expectControlAccepted();
    const o = agent.origin;
    const malformed = [
      `"${o}${DIRECTORY_PATH}/"`, // the directory path with a trailing slash
      `"${o}?"`, // an empty query
      `"${o}#"`, // an empty fragment
      'sig1=?1', // a boolean, not a string
      `sig1=("${o}")`, // an inner list
      `sig1="${o}";a=1`, // a member with parameters
      `"${o}", "${o}"`, // a list of two strings, neither a dictionary nor one string
      `"${'a'.repeat(8000)}"`, // 8 kB that is no URL
    ];
    for (const signatureAgent of malformed) {
      const res = await whoami({ signatureAgent });
      expect({ value: signatureAgent.slice(0, 80), status: res.status, code: res.code }).toEqual({
        value: signatureAgent.slice(0, 80),
        status: 400,
        code: 'WEB_BOT_AUTH_AGENT_INVALID',
      });
    }
  });

  it('other spellings of the agent origin are refused: WEB_BOT_AUTH_AGENT_INVALID (parsed strictly, not normalized)', async () => {
    await expectControlAccepted();
    const o = agent.origin;
    // The origin with a trailing slash is the origin; every other spelling that WHATWG URL
    // parsing would normalize to it (dot segments, an escaped dot, backslashes, upper case) is refused.
    expect((await whoami({ signatureAgent: `"${o}/"` })).status).toBe(200);
    for (const spelling of [
      `${o}/./`,
      `${o}/%2e`,
      o.replace('https://', 'https:\\\\'),
      o.replace('localhost', 'LOCALHOST'),
      `${o}/.well-known/../.well-known/http-message-signatures-directory`,
    ]) {
      const res = await whoami({ signatureAgent: JSON.stringify(spelling) });
      expect([spelling, res.status, res.code]).toEqual([spelling, 400, 'WEB_BOT_AUTH_AGENT_INVALID']);
    }
  });

  it('a dictionary key given twice names its last member: WEB_BOT_AUTH_AGENT_NOT_ALLOWED', async () => {
    await expectControlAccepted();
    // RFC 8941: a repeated dictionary key keeps its last value, here an agent not on the allowlist.
    const res = await whoami({ signatureAgent: `sig1="${agent.origin}", sig1="https://evil.example"` });
    expect({ status: res.status, code: res.code }).toEqual({
      status: 401,
      code: 'WEB_BOT_AUTH_AGENT_NOT_ALLOWED',
    });
  });

  it("a keyid missing from the directory, a bad signature and an alg other than the key's answer alike: KEY_UNKNOWN_OR_SIGNATURE_INVALID", async () => {
    await expectControlAccepted();
    const unknown = await whoami({ key: strangerKey });
    expect({ status: unknown.status, code: unknown.code }).toEqual({
      status: 401,
      code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
    });
    // Status, body and headers identical: nothing tells a listed key from an unlisted one.
    expect(await whoami({ tamper: true })).toEqual(unknown);
    expect(await whoami({ params: { alg: 'rsa-pss-sha512' } })).toEqual(unknown);
    expect(await whoami({ key: strangerKey, params: { alg: 'rsa-pss-sha512' } })).toEqual(unknown);
  });

  it('an alg the library does not accept answers alike for a listed and an unlisted key: ALGORITHM_NOT_ALLOWED', async () => {
    await expectControlAccepted();
    const listed = await whoami({ params: { alg: 'hmac-sha256' } });
    expect({ status: listed.status, code: listed.code }).toEqual({
      status: 401,
      code: 'ALGORITHM_NOT_ALLOWED',
    });
    expect(await whoami({ key: strangerKey, params: { alg: 'hmac-sha256' } })).toEqual(listed);
  });
});
