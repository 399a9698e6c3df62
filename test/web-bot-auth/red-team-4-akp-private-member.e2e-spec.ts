import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { agentGet, startAgentApp, type AgentApp } from './support/agent-app';
import { directoryJwk } from './support/directory-server';

/**
 * Red team 4, G90 ("a directory with a private key member is refused whole",
 * WEB_BOT_AUTH_DIRECTORY_INVALID: a host that publishes private key material is not a key
 * authority). PRIVATE_JWK_MEMBERS lists d, p, q, dp, dq, qi, oth, k, not `priv`, the private
 * member of an ML-DSA ("AKP") JWK (draft-ietf-cose-dilithium). A directory that publishes an
 * ML-DSA key with its `priv` is not refused: the AKP key is skipped and the directory's Ed25519
 * key authenticates. Control: the same directory with an OKP key carrying `d` is refused.
 */
describe('Web Bot Auth, red team 4: a directory that publishes an ML-DSA private key', () => {
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
      res
        .writeHead(200, {
          'content-type': 'application/http-message-signatures-directory+json',
          'cache-control': 'no-store',
        })
        .end(JSON.stringify({ keys: [directoryJwk(agentKey), other] }));
    });
  });
  afterAll(() => a.close());

  const probe = () => agentGet(a.t, '/probe/whoami', { key: agentKey, agent: a.agent.origin });

  // The control first: a refused refresh would be answered from the stale copy a working directory leaves.
  it('control: an Ed25519 key with its private member "d": refused whole', async () => {
    other = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
    expect(await probe()).toEqual({ status: 401, who: 'WEB_BOT_AUTH_DIRECTORY_INVALID' });
  });

  it('an ML-DSA (AKP) key with its private member priv: the directory is refused whole', async () => {
    other = {
      kty: 'AKP',
      alg: 'ML-DSA-44',
      pub: randomBytes(1312).toString('base64url'),
      priv: randomBytes(32).toString('base64url'),
    };
    expect(await probe()).toEqual({ status: 401, who: 'WEB_BOT_AUTH_DIRECTORY_INVALID' });
  });
});
