import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { bool, checkKeys, number } from '../options/option-checks';
import { isPlainObject } from '../options/option-field-names';
import { AgentAllowlist } from './agent-allowlist';
import {
  DIRECTORY_DEFAULTS,
  ResolvedDirectoryOptions,
  WebBotAuthAgentOptions,
  WebBotAuthDirectoryOptions,
  WebBotAuthOptions,
} from './web-bot-auth-options';

/** `webBotAuth` after validation. */
export interface ResolvedWebBotAuthOptions {
  readonly allowlist: AgentAllowlist;
  readonly maxLifetimeMs: number;
  readonly requireNonce: boolean;
  readonly directory: ResolvedDirectoryOptions;
}

const KNOWN = ['agents', 'maxLifetimeSeconds', 'requireNonce', 'directory'];
const KNOWN_AGENT = ['origin', 'username', 'roles'];
const KNOWN_DIRECTORY = [...Object.keys(DIRECTORY_DEFAULTS), 'ca'];

/**
 * Checks `webBotAuth` at startup: every bound finite and within range, the allowlist
 * parsed, and `directory.allowLoopback` refused under NODE_ENV=production (it lets any
 * allowlisted agent name make this server connect to its own loopback services).
 */
export function validateWebBotAuthOptions(
  raw: WebBotAuthOptions | undefined,
): ResolvedWebBotAuthOptions | null {
  if (raw === undefined) return null;
  if (!isPlainObject(raw)) {
    throw ConfigError.create(
      'webBotAuth must be an object { agents, … }.',
      "Write webBotAuth: { agents: [{ origin: 'https://crawler.example.com', username: 'crawler', roles: ['reader'] }] }.",
    );
  }
  checkKeys('webBotAuth.', raw, KNOWN);
  const agents: unknown = raw.agents;
  if (!Array.isArray(agents) || agents.length === 0) {
    throw ConfigError.create(
      'webBotAuth.agents must list at least one allowed agent.',
      "Write agents: [{ origin: 'https://crawler.example.com', username: 'crawler', roles: ['reader'] }].",
    );
  }
  agents.forEach((a: unknown, i) => checkAgent(a, `webBotAuth.agents[${i}]`));
  const directory = raw.directory ?? {};
  if (!isPlainObject(directory)) {
    throw ConfigError.create('webBotAuth.directory must be an object.', 'Fix or remove it.');
  }
  checkKeys('webBotAuth.directory.', directory, KNOWN_DIRECTORY);
  const resolvedDirectory = resolveDirectory(directory);
  return {
    allowlist: new AgentAllowlist(
      agents as WebBotAuthAgentOptions[],
      resolvedDirectory.maxNewAgentsPerMinute,
    ),
    maxLifetimeMs: 1000 * number('webBotAuth.maxLifetimeSeconds', raw.maxLifetimeSeconds, 300, 1, 86_400),
    requireNonce: bool('webBotAuth.requireNonce', raw.requireNonce, false),
    directory: resolvedDirectory,
  };
}

function checkAgent(agent: unknown, where: string): void {
  if (!isPlainObject(agent)) {
    throw ConfigError.create(`${where} must be an object { origin, username, roles? }.`, 'Fix the entry.');
  }
  checkKeys(`${where}.`, agent, KNOWN_AGENT);
  if (typeof agent.origin !== 'string' || typeof agent.username !== 'string' || agent.username.length === 0) {
    throw ConfigError.create(
      `${where} needs an origin (string) and a username (the account the agent acts as).`,
      "Write { origin: 'https://crawler.example.com', username: 'crawler', roles: ['reader'] }.",
    );
  }
  const roles = agent.roles;
  if (
    roles !== undefined &&
    (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || r.length === 0))
  ) {
    throw ConfigError.create(
      `${where}.roles must be a list of role names (got ${JSON.stringify(roles)}).`,
      "Write roles: ['reader'], or leave roles out to give the agent every role of its account.",
    );
  }
}

function resolveDirectory(raw: WebBotAuthDirectoryOptions): ResolvedDirectoryOptions {
  const d = DIRECTORY_DEFAULTS;
  const n = (name: keyof WebBotAuthDirectoryOptions, min: number, max: number) =>
    number(`webBotAuth.directory.${name}`, raw[name], d[name as keyof typeof d] as number, min, max);
  const minCacheSeconds = n('minCacheSeconds', 0, 86_400);
  const maxCacheSeconds = n('maxCacheSeconds', 1, 7 * 86_400);
  if (minCacheSeconds > maxCacheSeconds) {
    throw ConfigError.create(
      'webBotAuth.directory.minCacheSeconds is larger than maxCacheSeconds.',
      'Set minCacheSeconds ≤ maxCacheSeconds.',
    );
  }
  const signatures = raw.signatures ?? d.signatures;
  if (signatures !== 'require' && signatures !== 'verify-if-present') {
    throw ConfigError.create(
      `webBotAuth.directory.signatures must be 'require' or 'verify-if-present' (got ${JSON.stringify(signatures)}).`,
      "Leave it out for 'verify-if-present'.",
    );
  }
  const ca = raw.ca === undefined ? [] : [raw.ca].flat();
  if (ca.some((c) => typeof c !== 'string' && !Buffer.isBuffer(c))) {
    throw ConfigError.create(
      'webBotAuth.directory.ca must be PEM text or Buffers.',
      'Pass the CA file contents.',
    );
  }
  const allowLoopback = bool('webBotAuth.directory.allowLoopback', raw.allowLoopback, d.allowLoopback);
  if (allowLoopback && process.env.NODE_ENV === 'production') {
    throw ConfigError.create(
      'webBotAuth.directory.allowLoopback is for tests: it is refused when NODE_ENV=production.',
      'Remove allowLoopback; agents publish their directories on public addresses.',
    );
  }
  return Object.freeze({
    timeoutMs: n('timeoutMs', 50, 30_000),
    maxBytes: n('maxBytes', 256, 1_048_576),
    maxKeys: n('maxKeys', 1, 256),
    minCacheSeconds,
    maxCacheSeconds,
    defaultCacheSeconds: n('defaultCacheSeconds', 0, 7 * 86_400),
    staleSeconds: n('staleSeconds', 0, 7 * 86_400),
    failureBackoffSeconds: n('failureBackoffSeconds', 0, 3600),
    refetchUnknownKeySeconds: n('refetchUnknownKeySeconds', 0, 86_400),
    maxEntries: n('maxEntries', 1, 100_000),
    maxConcurrentFetches: n('maxConcurrentFetches', 1, 1000),
    maxNewAgentsPerMinute: n('maxNewAgentsPerMinute', 0, 100_000),
    signatures,
    ca: Object.freeze(ca),
    allowLoopback,
  });
}
