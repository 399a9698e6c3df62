import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { KeyRegistry } from '../src';
import type { WebBotAuthOptions } from '../src';

/** The account every allowed agent acts as, and the role subset it gets. */
export const CRAWLER_ACCOUNT = 'crawler';
export const CRAWLER_ROLES = ['reader'];

/**
 * `webBotAuth` from WEB_BOT_AUTH_AGENTS (comma-separated agent origins or `https://*.` patterns),
 * WEB_BOT_AUTH_CA (a PEM file of extra CAs trusted for their directories) and
 * WEB_BOT_AUTH_ALLOW_LOOPBACK=1 (agents on loopback addresses: for tests only). Undefined when
 * WEB_BOT_AUTH_AGENTS is unset. Every agent maps to the `crawler` account with role `reader`.
 * Throws an Error whose message names the variable; the caller words it for the demo.
 */
export function webBotAuthFromEnvironment(env: NodeJS.ProcessEnv): WebBotAuthOptions | undefined {
  const agents = (env.WEB_BOT_AUTH_AGENTS ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  const caFile = env.WEB_BOT_AUTH_CA?.trim();
  const loopback = env.WEB_BOT_AUTH_ALLOW_LOOPBACK?.trim();
  if (agents.length === 0) {
    if (caFile || loopback) {
      throw new Error(
        'WEB_BOT_AUTH_CA and WEB_BOT_AUTH_ALLOW_LOOPBACK need WEB_BOT_AUTH_AGENTS: set the agent origins too.',
      );
    }
    return undefined;
  }
  if (loopback !== undefined && loopback !== '' && loopback !== '1' && loopback !== '0') {
    throw new Error(
      `WEB_BOT_AUTH_ALLOW_LOOPBACK=${JSON.stringify(loopback)}: set it to 1 (tests only) or leave it unset.`,
    );
  }
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw new Error(
        `WEB_BOT_AUTH_CA=${caFile}: cannot read it (${(error as Error).message}): name a PEM file of CA certificates.`,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error(
        `WEB_BOT_AUTH_CA=${caFile} holds no PEM certificate: name a PEM file of CA certificates.`,
      );
    }
  }
  return {
    agents: agents.map((origin) => ({ origin, username: CRAWLER_ACCOUNT, roles: CRAWLER_ROLES })),
    directory: { ...(ca ? { ca } : {}), allowLoopback: loopback === '1' },
  };
}

/** Creates the `crawler` account (role `reader`) the agents act as, unless it exists. */
export async function ensureCrawlerAccount(app: INestApplication): Promise<void> {
  const users = app.get(KeyRegistry).directory;
  if (await users.findByUsername(CRAWLER_ACCOUNT)) return;
  await users.create?.(CRAWLER_ACCOUNT, CRAWLER_ROLES);
}
