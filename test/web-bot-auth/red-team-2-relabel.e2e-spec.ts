import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { signRfc9421 } from '../../src/http-signatures';
import { jwkThumbprint } from '../../src/keys/jwk-thumbprint';
import { publicKeyFromPrivate } from '../../src/keys/formats/private-key-loader';
import { signWithAlgorithm } from '../../src/keys/key-algorithm';
import { requestView } from '../../src/client/sign-request';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, startDirectoryServer } from '../web-bot-auth/support/directory-server';

/**
 * Red team 2 (issue 18): the RFC 9421 label is not signed, yet with whole-field coverage of a
 * two-member Signature-Agent the verifier chose the agent by the label: renaming it moved the
 * same signed bytes to the other agent (another account, and a fresh replay scope). Two agents
 * publish the same key (one operator, two agent origins).
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 2: a relabelled signature is not another agent (G86, G93)', () => {
  let t: TestApp;
  let a: DirectoryServer;
  let b: DirectoryServer;
  const key = generateKeyPairSync('ed25519').privateKey;

  beforeAll(async () => {
    a = await startDirectoryServer({ keys: [key], signing: 'cloudflare' });
    b = await startDirectoryServer({ keys: [key], signing: 'cloudflare' });
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [
            { origin: a.origin, username: 'agent-a', roles: ['reader'] },
            { origin: b.origin, username: 'agent-b', roles: ['reader', 'admin'] },
          ],
          directory: { ca: [a.caPem, b.caPem], allowLoopback: true },
        },
      },
    });
    await t.addUser('agent-a', ['reader']);
    await t.addUser('agent-b', ['reader', 'admin']);
  });
  afterAll(async () => {
    await t.close();
    await a.close();
    await b.close();
  });

  /** A GET of /probe/whoami as agent A, covering `agentComponent`, under label sig1. */
  function signedByA(agentComponent: { name: string; params?: { key: string } }) {
    const path = '/probe/whoami';
    const headers: Record<string, string> = { 'signature-agent': `sig1="${a.origin}", sig2="${b.origin}"` };
    const created = Math.floor(Date.now() / 1000);
    const signed = signRfc9421(requestView('GET', new URL(`${SERVICE}${path}`), headers), {
      label: 'sig1',
      components: [{ name: '@method' }, { name: '@authority' }, { name: '@path' }, agentComponent],
      params: {
        created,
        keyid: jwkThumbprint(publicKeyFromPrivate(key)),
        alg: 'ed25519',
        expires: created + 60,
        nonce: randomBytes(32).toString('base64'),
        tag: 'web-bot-auth',
      },
      sign: (data) => signWithAlgorithm('ed25519', key, data),
    });
    return { ...headers, 'signature-input': signed.signatureInput, signature: signed.signature };
  }
  const relabelled = (headers: Record<string, string>) => ({
    ...headers,
    'signature-input': headers['signature-input'].replace(/^sig1=/, 'sig2='),
    signature: headers.signature.replace(/^sig1=/, 'sig2='),
  });
  async function whoami(headers: Record<string, string>) {
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, who: body.code ?? body.username };
  }

  it('whole-field coverage of a two-member Signature-Agent is refused, under either label: the label is not signed', async () => {
    const headers = signedByA({ name: 'signature-agent' });
    expect(await whoami(headers)).toEqual({ status: 400, who: 'WEB_BOT_AUTH_AGENT_INVALID' });
    expect(await whoami(relabelled(headers))).toEqual({ status: 400, who: 'WEB_BOT_AUTH_AGENT_INVALID' });
  });

  it("a member-covered signature stays its agent's when relabelled, and its nonce stays spent: REPLAYED", async () => {
    const headers = signedByA({ name: 'signature-agent', params: { key: 'sig1' } });
    expect(await whoami(headers)).toEqual({ status: 200, who: 'agent-a' });
    // Renamed to sig2: still attributed to member sig1 (the key is in the signed base); used once already.
    expect(await whoami(relabelled(headers))).toEqual({ status: 401, who: 'REPLAYED' });
  });
});
