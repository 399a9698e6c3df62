import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { signWebBotAuthRequest } from '../../src/client';
import { jwkThumbprint } from '../../src/keys/jwk-thumbprint';
import { SendResult } from '../support/certificates';
import { createGraphQLApp, GRAPHQL_SERVERS, GraphQLServerName, GraphQLTestApp } from '../support/graphql-app';
import { DirectoryServer, startDirectoryServer } from './support/directory-server';

/**
 * Web Bot Auth through GraphQL (G70, G93, G94): the real module under a real GraphQL server
 * (Apollo Server on Express, Mercurius on Fastify) over real HTTP, agents whose directories
 * are real HTTPS servers the app trusts, and POSTs signed by the SDK's signWebBotAuthRequest.
 * Signatures name the configured `origin` (which webBotAuth requires) and are sent to the
 * app's real address, as a proxy in front of the service would deliver them.
 */
/** The service's configured origin: what every agent signature here names. */
const SERVICE = 'https://wba.example.test';

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { path?: unknown[]; extensions?: { code?: string; status?: number } }[];
}

const body = (res: SendResult): Body => res.body as Body;

describe.each(GRAPHQL_SERVERS)('Web Bot Auth over GraphQL on %s', (server: GraphQLServerName) => {
  let t: GraphQLTestApp;
  /** The agent under test: account `crawler` (reader, admin), allowed the reader role only. */
  let agent: DirectoryServer;
  /** Another agent of the same account, allowed admin too: the control for the role subset. */
  let operator: DirectoryServer;
  const agentKey = generateKeyPairSync('ed25519').privateKey;
  const operatorKey = generateKeyPairSync('ed25519').privateKey;
  /** Every answer of this block, to check that none was a 5xx. */
  const statuses: number[] = [];

  beforeAll(async () => {
    agent = await startDirectoryServer({ keys: [agentKey] });
    operator = await startDirectoryServer({ keys: [operatorKey] });
    t = await createGraphQLApp({
      server,
      batching: true,
      options: {
        origin: SERVICE,
        webBotAuth: {
          agents: [
            { origin: agent.origin, username: 'crawler', roles: ['reader'] },
            { origin: operator.origin, username: 'crawler', roles: ['reader', 'admin'] },
          ],
          directory: { ca: [agent.caPem, operator.caPem], allowLoopback: true },
        },
      },
    });
    await t.addUser('crawler', ['reader', 'admin']);
  });
  afterAll(async () => {
    await t?.close();
    await agent?.close();
    await operator?.close();
  });

  /** A POST of `payload` to SERVICE/graphql, signed as the agent at `agentOrigin` (with a nonce and Content-Digest). */
  const signed = (payload: unknown, key: KeyObject = agentKey, agentOrigin = agent.origin) => {
    const text = JSON.stringify(payload);
    const { headers } = signWebBotAuthRequest(
      {
        method: 'POST',
        url: `${SERVICE}/graphql`,
        headers: { 'content-type': 'application/json' },
        body: text,
      },
      { privateKey: key, agent: agentOrigin },
    );
    return { text, headers, nonce: /nonce="([^"]+)"/.exec(headers['signature-input'])![1] };
  };
  const post = async ({ text, headers }: { text: string; headers: Record<string, string> }) => {
    const res = await t.post(text, headers);
    statuses.push(res.status);
    return res;
  };
  const codes = (res: SendResult) =>
    t.errors(res).map((e) => [(e.path as unknown[] | undefined)?.join('.'), e.code]);

  it('a signed POST reaching two guarded fields is answered as the agent, with its role subset, verified and its nonce claimed once', async () => {
    const request = signed({ query: '{ whoami { username keyId method roles } me }' });
    const claimsBefore = t.store.claims.length;
    const seenBefore = t.resolvers.contexts.length;
    const res = await post(request);
    expect(res.status).toBe(200);
    expect(body(res)).toEqual({
      data: {
        whoami: {
          username: 'crawler',
          keyId: jwkThumbprint(agentKey),
          method: 'web-bot-auth',
          roles: ['reader'],
        },
        me: 'crawler',
      },
    });
    // One claim for the whole request, for this signature's nonce under its key.
    expect(t.store.claims.slice(claimsBefore)).toEqual([
      { scope: `wba-nonce:${jwkThumbprint(agentKey)}`, nonce: request.nonce },
    ]);
    // Both resolvers saw the same SecurityContext: one verification.
    const seen = t.resolvers.contexts.slice(seenBefore);
    expect(seen.map(([name]) => name).sort()).toEqual(['me', 'whoami']);
    expect(new Set(seen.map(([, ctx]) => ctx)).size).toBe(1);
    expect(seen[0][1].agent).toEqual({
      origin: agent.origin,
      thumbprint: jwkThumbprint(agentKey),
    });
  });

  it('a replayed signed POST is refused on every guarded field: REPLAYED', async () => {
    const request = signed({ query: '{ whoami { username } me }' });
    const first = await post(request);
    expect(body(first)).toEqual({ data: { whoami: { username: 'crawler' }, me: 'crawler' } });
    const logged = t.logs.failures().length;
    const again = await post(request);
    // `me` is non-null, so its refusal nulls the whole of `data`.
    expect(body(again).data ?? null).toBeNull();
    expect(codes(again).sort()).toEqual([
      ['me', 'REPLAYED'],
      ['whoami', 'REPLAYED'],
    ]);
    expect(body(again).errors!.map((e) => e.extensions!.status)).toEqual([401, 401]);
    // Refused once for the request, however many fields it reaches.
    expect(
      t.logs
        .failures()
        .slice(logged)
        .map((f) => f.code),
    ).toEqual(['REPLAYED']);
  });

  it("@Roles('admin') refuses an agent whose subset lacks admin, though its account has it: ROLE_REQUIRED", async () => {
    // Control: the same account through an agent allowed admin reaches the field.
    const allowed = await post(signed({ query: '{ adminSecret }' }, operatorKey, operator.origin));
    expect(body(allowed)).toEqual({ data: { adminSecret: 'for crawler' } });
    // Control: the agent under test is accepted for a field without a role.
    const accepted = await post(signed({ query: '{ me }' }));
    expect(body(accepted)).toEqual({ data: { me: 'crawler' } });
    const res = await post(signed({ query: '{ adminSecret }' }));
    expect(res.status).toBe(200);
    expect(body(res).data).toEqual({ adminSecret: null });
    expect(codes(res)).toEqual([['adminSecret', 'ROLE_REQUIRED']]);
    expect(body(res).errors![0].extensions!.status).toBe(403);
  });

  it('a signed batch of two operations is answered as the agent, both operations, with one nonce claim', async () => {
    const claimsBefore = t.store.claims.length;
    const res = await post(signed([{ query: '{ me }' }, { query: '{ whoami { method roles } }' }]));
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { data: { me: 'crawler' } },
      { data: { whoami: { method: 'web-bot-auth', roles: ['reader'] } } },
    ]);
    expect(t.store.claims.length - claimsBefore).toBe(1);
  });

  it('answered every request without a 5xx, and logged no error for the refusals', () => {
    expect(statuses.length).toBeGreaterThanOrEqual(7);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(t.logs.entries.filter((e) => e.level === 'error' || e.context === 'ExceptionsHandler')).toEqual(
      [],
    );
    expect(t.logs.failures().map((f) => f.code)).toEqual(
      expect.arrayContaining(['REPLAYED', 'ROLE_REQUIRED']),
    );
  });
});
