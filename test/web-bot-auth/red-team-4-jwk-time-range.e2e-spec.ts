import { generateKeyPairSync } from 'node:crypto';
import { agentGet, startAgentApp, type AgentApp } from './support/agent-app';
import { directoryJwk } from './support/directory-server';

/**
 * Red team 4, G87/G92 + "unknown key vs bad signature look the same": a directory key whose
 * JWK nbf (or exp) is a finite number of seconds beyond what a JS Date can hold (|t| > 8.64e12 s)
 * is kept by parseDirectory (timestamp() only asks Number.isFinite), and checkKeyValidity then
 * builds its refusal reason with new Date(ms).toISOString(), which throws RangeError. The guard
 * maps that to 401 AUTHENTICATION_FAILED with an "unexpected error" log line, instead of
 * KEY_UNKNOWN_OR_SIGNATURE_INVALID (the answer an unknown key or a bad signature gets).
 */
describe('Web Bot Auth, red team 4: JWK nbf/exp outside the Date range', () => {
  let a: AgentApp;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  let extra: Record<string, unknown> = {};

  beforeAll(async () => {
    a = await startAgentApp({
      keys: [],
      signing: 'none',
      directory: {
        minCacheSeconds: 0,
        refetchUnknownKeySeconds: 0,
        failureBackoffSeconds: 0,
        staleSeconds: 1,
      },
    });
    a.agent.setHandler((_req, res) => {
      res
        .writeHead(200, {
          'content-type': 'application/http-message-signatures-directory+json',
          'cache-control': 'no-store',
        })
        .end(JSON.stringify({ keys: [{ ...directoryJwk(agentKey), ...extra }] }));
    });
  });
  afterAll(() => a.close());

  async function probe(): Promise<{ status: number; code: unknown }> {
    const { status, who } = await agentGet(a.t, '/probe/whoami', { key: agentKey, agent: a.agent.origin });
    return { status, code: who };
  }

  it.each([
    ['nbf far ahead, in Date range (control)', { nbf: 4_000_000_000 }],
    ['nbf 1e13 s ahead (beyond Date range)', { nbf: 1e13 }],
    ['exp -1e13 s (beyond Date range, long past)', { exp: -1e13 }],
  ])('%s: KEY_UNKNOWN_OR_SIGNATURE_INVALID', async (_name, members) => {
    extra = members;
    expect(await probe()).toEqual({ status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' });
  });
});
