import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import type { WebBotAuthAgentOptions } from './web-bot-auth-options';

/** An allowlist entry, checked at startup: the account an agent acts as. */
export interface AllowedAgent {
  /** The entry as configured (an origin or a `https://*.` pattern), for logs. */
  readonly pattern: string;
  readonly username: string;
  /** Role subset; null for all of the account's roles. */
  readonly roles: readonly string[] | null;
  /**
   * For a `*.` pattern: whether one more host under it may be fetched for the first time now
   * (counts it when it may); undefined for an exact origin, which is never limited.
   */
  readonly admitNewHost?: (now: number) => boolean;
}

/** A fixed one-minute window of first fetches for one pattern. */
function newHostBudget(perMinute: number): (now: number) => boolean {
  let windowStart = Number.NEGATIVE_INFINITY;
  let used = 0;
  return (now) => {
    if (now - windowStart >= 60_000) {
      windowStart = now;
      used = 0;
    }
    if (used >= perMinute) return false;
    used++;
    return true;
  };
}

interface WildcardEntry {
  /** `.example.com` for `https://*.example.com`. */
  readonly suffix: string;
  /** `:8443`, or '' for the default port. */
  readonly port: string;
  readonly agent: AllowedAgent;
}

/**
 * The agent origins an operator allows, each mapped to an account. Matching is on the
 * normalized origin (URL.origin: lowercase, punycode, default port dropped), so
 * `https://Crawler.Example.com:443` and `https://crawler.example.com` are one agent.
 * `https://*.example.com` matches one or more labels before `example.com`, never the
 * bare domain, and only on the port it names. Exact entries win over patterns; among
 * patterns the longest suffix wins.
 */
export class AgentAllowlist {
  private readonly exact = new Map<string, AllowedAgent>();
  private readonly wildcards: WildcardEntry[] = [];

  /** @param newHostsPerMinute per `*.` pattern: hosts under it fetched for the first time per minute. */
  constructor(agents: readonly WebBotAuthAgentOptions[], newHostsPerMinute = Infinity) {
    for (const [i, entry] of agents.entries()) {
      const where = `webBotAuth.agents[${i}]`;
      const wildcard = /^https:\/\/\*\.(.+)$/i.exec(entry.origin);
      const agent: AllowedAgent = Object.freeze({
        pattern: entry.origin,
        username: entry.username,
        roles: entry.roles ? Object.freeze([...entry.roles]) : null,
        ...(wildcard ? { admitNewHost: newHostBudget(newHostsPerMinute) } : {}),
      });
      const origin = normalizeOrigin(wildcard ? `https://wildcard.${wildcard[1]}` : entry.origin);
      if (!origin) {
        throw ConfigError.create(
          `${where}.origin ${JSON.stringify(entry.origin)} is not an https origin or pattern.`,
          'Write an origin like "https://crawler.example.com" or a pattern like "https://*.example.com": https, no path, query or user.',
        );
      }
      if (wildcard) {
        const host = hostOf(origin);
        const suffix = host.host.slice('wildcard'.length);
        if (!suffix.includes('.', 1) && !suffix.startsWith('.[')) {
          throw ConfigError.create(
            `${where}.origin ${JSON.stringify(entry.origin)} matches every host under a top-level domain.`,
            'Name a registrable domain: "https://*.example.com".',
          );
        }
        this.wildcards.push({ suffix, port: host.port, agent });
      } else {
        if (this.exact.has(origin)) {
          throw ConfigError.create(`${where}.origin ${origin} is listed twice.`, 'Keep one entry per agent.');
        }
        this.exact.set(origin, agent);
      }
    }
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  /** The entry for a normalized agent origin, or undefined when the agent is not allowed. */
  match(origin: string): AllowedAgent | undefined {
    const exact = this.exact.get(origin);
    if (exact !== undefined || this.wildcards.length === 0) return exact;
    const { host, port } = hostOf(origin);
    for (const w of this.wildcards) {
      if (w.port === port && host.length > w.suffix.length && host.endsWith(w.suffix)) return w.agent;
    }
    return undefined;
  }
}

/**
 * The normalized origin of an https URL that is only an origin (an empty path or `/`),
 * or null. No user, query or fragment.
 */
export function normalizeOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) return null;
  if (url.pathname !== '/' || /[?#]$/.test(value)) return null;
  return url.origin;
}

/** Host and port (`:8443` or '') of a normalized https origin. */
function hostOf(origin: string): { host: string; port: string } {
  const rest = origin.slice('https://'.length);
  const colon = rest.lastIndexOf(':');
  // An IPv6 literal's colons are inside brackets: a port colon comes after the `]`.
  if (colon > rest.lastIndexOf(']')) return { host: rest.slice(0, colon), port: rest.slice(colon) };
  return { host: rest, port: '' };
}
