import { generateKeyPairSync } from 'node:crypto';
import { signWebBotAuthRequest } from '../../src/client';
import { createTestApp, TestApp } from '../support/test-app';
import { DirectoryServer, directoryJwk, startDirectoryServer } from './support/directory-server';

/**
 * Red team 4, G87/G92 + "unknown key vs bad signature look the same": a directory key whose
 * JWK nbf (or exp) is a finite number of seconds beyond what a JS Date can hold (|t| > 8.64e12 s)
 * is kept by parseDirectory (timestamp() only asks Number.isFinite), and checkKeyValidity then
 * builds its refusal reason with new Date(ms).toISOString(), which throws RangeError. The guard
 * maps that to 401 AUTHENTICATION_FAILED with an "unexpected error" log line, instead of
 * KEY_UNKNOWN_OR_SIGNATURE_INVALID (the answer an unknown key or a bad signature gets).
 */
const SERVICE = 'https://wba.example.test';

describe('Web Bot Auth, red team 4: JWK nbf/exp outside the Date range', () => {
  let t: TestApp;
  let agent: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  let extra: Record<string, unknown> = {};

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [], signing: 'none' });
    agent.setHandler((_req, res) => {
      res
        .writeHead(200, {
          'content-type': 'application/http-message-signatures-directory+json',
          'cache-control': 'no-store',
        })
        .end(JSON.stringify({ keys: [{ ...directoryJwk(agentKey), ...extra }] }));
    });
    t = await createTestApp({
      adapter: 'express',
      database: 'sqlite',
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [{ origin: agent.origin, username: 'crawler', roles: ['reader'] }],
          directory: {
            ca: agent.caPem,
            allowLoopback: true,
            minCacheSeconds: 0,
            refetchUnknownKeySeconds: 0,
            failureBackoffSeconds: 0,
            staleSeconds: 1,
          } as never,
        },
      },
    });
    await t.addUser('crawler', ['reader']);
  });
  afterAll(async () => {
    await t.close();
    await agent.close();
  });

  async function probe(): Promise<{ status: number; code: unknown }> {
    const { headers } = signWebBotAuthRequest(
      { method: 'GET', url: `${SERVICE}/probe/whoami` },
      { privateKey: agentKey, agent: agent.origin },
    );
    const res = await fetch(`${t.server}/probe/whoami`, { headers });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, code: body.username ?? body.code };
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
