import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { agentGet, startAgentApp, type AgentApp } from './support/agent-app';
import { directoryJwk } from './support/directory-server';

/**
 * Red team 4, G91 / docs/web-bot-auth.md "a key with an unsupported type is skipped"
 * (agent-directory.ts: "a signature by a key we skip is not a forgery"): a directory that lists,
 * beside its Ed25519 key, a key of a type we skip and signs its response with it too (the draft
 * asks for one signature per key) has that signature ignored when the skipped key has an
 * RFC 7638 thumbprint we can compute (Ed448: OKP), but refused whole when it has not (an ML-DSA
 * "AKP" key, draft-ietf-cose-dilithium): jwkThumbprint throws, the key is not "listed", and its
 * signature "names a keyid the directory does not list" -> WEB_BOT_AUTH_DIRECTORY_SIGNATURE_INVALID,
 * so the agent's usable Ed25519 key is refused too. The signature value is never looked at.
 */
describe('Web Bot Auth, red team 4: a directory signature by a skipped key', () => {
  let a: AgentApp;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  let other: Record<string, unknown> = {};

  beforeAll(async () => {
    a = await startAgentApp({
      keys: [],
      signing: 'none',
      directory: { minCacheSeconds: 0, failureBackoffSeconds: 0, staleSeconds: 1 },
    });
    a.agent.setHandler((_req, res) => {
      const kid = String(other.kid);
      const created = Math.floor(Date.now() / 1000);
      res
        .writeHead(200, {
          'content-type': 'application/http-message-signatures-directory+json',
          'cache-control': 'no-store',
          'signature-input': `binding1=("@authority";req);created=${created};expires=${created + 300};keyid="${kid}";tag="http-message-signatures-directory"`,
          signature: `binding1=:${randomBytes(64).toString('base64')}:`,
        })
        .end(JSON.stringify({ keys: [directoryJwk(agentKey), other] }));
    });
  });
  afterAll(() => a.close());

  const probe = () => agentGet(a.t, '/probe/whoami', { key: agentKey, agent: a.agent.origin });

  // failureBackoffSeconds 0, staleSeconds 1 (0 refuses even a directory just fetched with max-age 0): each request is answered by the directory it fetched.
  it('an ML-DSA (AKP) key (skipped) signing too: its signature is ignored likewise', async () => {
    other = {
      kty: 'AKP',
      alg: 'ML-DSA-44',
      pub: randomBytes(1312).toString('base64url'),
      kid: randomBytes(32).toString('base64url'),
    };
    expect(await probe()).toEqual({ status: 200, who: 'crawler' });
  });

  it('control: an Ed448 key (skipped) signing too: its signature is ignored, the Ed25519 key verifies', async () => {
    const ed448 = generateKeyPairSync('ed448').publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    const { jwkThumbprint } = await import('../../src/keys/jwk-thumbprint');
    other = { ...ed448, kid: jwkThumbprint(ed448) };
    expect(await probe()).toEqual({ status: 200, who: 'crawler' });
  });
});
