import { AgentAllowlist, normalizeOrigin } from './agent-allowlist';
import { agentOrigin } from './signature-agent';

describe('AgentAllowlist', () => {
  const list = new AgentAllowlist([
    { origin: 'https://Crawler.Example.com:443', username: 'crawler', roles: ['reader'] },
    { origin: 'https://*.agents.example', username: 'agents' },
    { origin: 'https://*.bots.example:8443', username: 'bots' },
  ]);
  const who = (origin: string) => list.match(origin)?.username;

  it('matches exact origins; the configured entry is normalized (case, default port)', () => {
    expect(who(agentOrigin('https://crawler.example.com'))).toBe('crawler');
    expect(who(agentOrigin('https://crawler.example.com/'))).toBe('crawler');
    expect(list.match('https://crawler.example.com')?.roles).toEqual(['reader']);
  });

  it('takes a Signature-Agent value only as written: another spelling of an origin is refused', () => {
    for (const value of [
      'https://CRAWLER.example.com',
      'https://crawler.example.com:443',
      'https://crawler.example.com/./',
      'https:\\\\crawler.example.com',
    ]) {
      expect(() => agentOrigin(value)).toThrow(
        expect.objectContaining({ code: 'WEB_BOT_AUTH_AGENT_INVALID' }),
      );
    }
  });

  it('never matches a lookalike, another port or a parent of an exact origin', () => {
    for (const origin of [
      'https://crawler.example.com.evil.test',
      'https://evilcrawler.example.com',
      'https://crawler.example.com:8443',
      'https://example.com',
      'https://a.crawler.example.com',
    ]) {
      expect(who(origin)).toBeUndefined();
    }
  });

  it('a *. pattern matches subdomains on its own port only, never the bare domain or a lookalike', () => {
    expect(who('https://a.agents.example')).toBe('agents');
    expect(who('https://a.b.agents.example')).toBe('agents');
    expect(who('https://agents.example')).toBeUndefined();
    expect(who('https://evilagents.example')).toBeUndefined();
    expect(who('https://a.agents.example:8443')).toBeUndefined();
    expect(who('https://x.bots.example:8443')).toBe('bots');
    expect(who('https://x.bots.example')).toBeUndefined();
  });

  it('refuses entries that are not https origins, or patterns over a top-level domain', () => {
    for (const origin of [
      'http://crawler.example.com',
      'https://crawler.example.com/path',
      'https://user@crawler.example.com',
      'https://crawler.example.com?q',
      'https://*.com',
      'crawler.example.com',
    ]) {
      expect(() => new AgentAllowlist([{ origin, username: 'x' }])).toThrow(
        /webBotAuth\.agents\[0\]\.origin/,
      );
    }
  });

  it('normalizes only bare https origins', () => {
    expect(normalizeOrigin('https://Example.COM')).toBe('https://example.com');
    expect(normalizeOrigin('https://example.com/')).toBe('https://example.com');
    expect(normalizeOrigin('https://example.com/x')).toBeNull();
    expect(normalizeOrigin('https://example.com#')).toBeNull();
  });
});
