/**
 * The setup most Web Bot Auth e2e tests repeat: one real HTTPS agent directory, a test app
 * that trusts it as `username` (origin https://wba.example.test), and a signed GET.
 *
 *   const a = await startAgentApp({ keys: [key], directory: { minCacheSeconds: 0 } });
 *   expect(await agentGet(a.t, '/probe/whoami', { key, agent: a.agent.origin })).toEqual(...);
 *   await a.close();
 */
import type { KeyObject } from 'node:crypto';
import type { AuthUser } from '../../../src';
import { signWebBotAuthRequest } from '../../../src/client';
import { createTestApp, type TestApp } from '../../support/test-app';
import { startDirectoryServer, type DirectoryServer, type DirectoryServerOptions } from './directory-server';

export const SERVICE = 'https://wba.example.test';

export interface AgentAppOptions extends DirectoryServerOptions {
  /** The local user the agent maps to (default 'crawler', roles ['reader']). */
  username?: string;
  roles?: string[];
  /** The user's own roles, when wider than the agent's (default: `roles`). */
  userRoles?: string[];
  /** Extra directory options (merged over ca + allowLoopback). */
  directory?: Record<string, unknown>;
}

export interface AgentApp {
  t: TestApp;
  agent: DirectoryServer;
  /** The user the agent maps to. */
  user: AuthUser;
  close(): Promise<void>;
}

/** Starts a directory server and an express/sqlite app that trusts it. */
export async function startAgentApp(options: AgentAppOptions = {}): Promise<AgentApp> {
  const {
    username = 'crawler',
    roles = ['reader'],
    userRoles = roles,
    directory,
    ...serverOptions
  } = options;
  const agent = await startDirectoryServer(serverOptions);
  const t = await createTestApp({
    adapter: 'express',
    database: 'sqlite',
    options: {
      origin: SERVICE,
      webBotAuth: {
        agents: [{ origin: agent.origin, username, roles }],
        directory: { ca: agent.caPem, allowLoopback: true, ...directory } as never,
      },
    },
  });
  const user = await t.addUser(username, userRoles);
  return {
    t,
    agent,
    user,
    close: async () => {
      await t.close();
      await agent.close();
    },
  };
}

/** Signs a GET of SERVICE<path> with `key` for `agent` and fetches t.server<path>. */
export async function agentGet(
  t: TestApp,
  path: string,
  signer: { key: KeyObject; agent: string },
): Promise<{ status: number; who: unknown }> {
  const { headers } = signWebBotAuthRequest(
    { method: 'GET', url: `${SERVICE}${path}` },
    { privateKey: signer.key, agent: signer.agent },
  );
  const res = await fetch(`${t.server}${path}`, { headers });
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, who: body.username ?? body.code };
}
