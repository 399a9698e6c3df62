import { UseGuards } from '@nestjs/common';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { Mutation, Query, Resolver } from '@nestjs/graphql';
import {
  AuthEvent,
  CurrentSecurityContext,
  Idempotent,
  KeypairAuthGuard,
  Public,
  RequireSignature,
  Roles,
  SecurityContext,
} from '../../src';
import { signRequest } from '../../src/client';
import { jwtHeader } from '../support/auth';
import { send, SendResult } from '../support/certificates';
import { GRAPHQL_SERVERS } from '../support/graphql-app';
import { createRedTeamGraphQLApp, RedTeamGraphQLApp } from '../support/graphql-red-team-app';
import { testKey } from '../support/keys';

/**
 * Regression tests for the red-team findings of issue 17 on GraphQL (Apollo and Mercurius):
 * @RequireSignature() policies inside one request, audit events and log lines per request,
 * refusals that throttled a valid key, cache-control hints, @Idempotent() on a resolver.
 */

const READER = testKey('ed25519', 0);
const STRANGER = testKey('ed25519', 2);

/** Which resolvers ran, as `field:method`. */
const ran: string[] = [];

@Resolver()
@UseGuards(KeypairAuthGuard)
class RedTeamResolver {
  @Query(() => String, { nullable: true })
  plain(@CurrentSecurityContext() c: SecurityContext): string {
    ran.push(`plain:${c.method}`);
    return c.method;
  }

  @RequireSignature({})
  @Query(() => String, { nullable: true })
  signedOnly(@CurrentSecurityContext() c: SecurityContext): string {
    ran.push(`signedOnly:${c.method}`);
    return c.method;
  }

  @RequireSignature({ requireNonce: true, requiredComponents: ['content-type'] })
  @Query(() => String, { nullable: true })
  strict(@CurrentSecurityContext() c: SecurityContext): string {
    ran.push(`strict:${c.method}`);
    return c.method;
  }

  @Roles('admin')
  @Query(() => String, { nullable: true })
  adminOnly(): string {
    ran.push('adminOnly');
    return 'admin';
  }

  @Mutation(() => String, { nullable: true })
  plainWrite(@CurrentSecurityContext() c: SecurityContext): string {
    ran.push(`plainWrite:${c.method}`);
    return c.method;
  }

  @RequireSignature({})
  @Mutation(() => String, { nullable: true })
  signedWrite(@CurrentSecurityContext() c: SecurityContext): string {
    ran.push(`signedWrite:${c.method}`);
    return c.method;
  }

  @RequireSignature({})
  @Mutation(() => String, { nullable: true })
  signedWrite2(@CurrentSecurityContext() c: SecurityContext): string {
    ran.push(`signedWrite2:${c.method}`);
    return c.method;
  }

  @Public()
  @Mutation(() => String, { nullable: true })
  ping(): string {
    ran.push('ping');
    return 'pong';
  }

  @Idempotent()
  @Mutation(() => String, { nullable: true })
  idemWrite(@CurrentSecurityContext() c: SecurityContext): string {
    ran.push(`idemWrite:${c.method}`);
    return c.method;
  }
}

const aliases = (n: number, field: string) =>
  Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');

type GraphQLBody = { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };

/** The error codes of a GraphQL answer (of every operation of a batch). */
function errorCodes(res: SendResult): string[] {
  const bodies = (Array.isArray(res.body) ? res.body : [res.body]) as GraphQLBody[];
  return bodies.flatMap((b) => (b.errors ?? []).map((e) => e.extensions?.code ?? '?'));
}

function data(res: SendResult): Record<string, unknown> {
  return ((res.body as GraphQLBody).data ?? {}) as Record<string, unknown>;
}

async function registerUser(
  t: RedTeamGraphQLApp,
  name: string,
  roles: string[],
  keyId: string,
  publicPem: string,
) {
  const user = await t.registry.directory.create!(name, roles);
  await t.registry.register(user, publicPem, { keyId });
}

describe.each(GRAPHQL_SERVERS)('GraphQL red team on %s: policies and audit per request', (server) => {
  let t: RedTeamGraphQLApp;
  const events: AuthEvent[] = [];
  const jwt = () => jwtHeader(READER.privateKey, 'reader', 'reader-key');
  /** An RFC 9421 signed POST /graphql by the reader's key. */
  const signedPost = (query: string, options: { nonce?: boolean; components?: string[] } = {}) => {
    const url = `${t.url}/graphql`;
    const body = JSON.stringify({ query });
    const { headers } = signRequest(
      { method: 'POST', url, headers: { 'content-type': 'application/json' }, body },
      { keyId: 'reader-key', privateKey: READER.privateKey, ...options },
    );
    return send(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
  };

  beforeAll(async () => {
    t = await createRedTeamGraphQLApp(server, [RedTeamResolver], {
      auditLog: 'all',
      onAuthEvent: (event) => void events.push(event),
    });
    await registerUser(t, 'reader', ['reader'], 'reader-key', READER.publicPem);
  });
  afterAll(() => t.close());
  beforeEach(() => {
    ran.length = 0;
    events.length = 0;
  });

  it('a client JWT on a @RequireSignature() field alone is refused (SIGNATURE_REQUIRED)', async () => {
    const res = await t.post({ query: '{ signedOnly }' }, { authorization: await jwt() });
    expect(data(res).signedOnly ?? null).toBeNull();
    expect(errorCodes(res)).toEqual(['SIGNATURE_REQUIRED']);
    expect(ran).toEqual([]);
  });

  it('red team 6: a client JWT on a @RequireSignature() field after a plain field of the same document is refused', async () => {
    const res = await t.post({ query: '{ plain signedOnly }' }, { authorization: await jwt() });
    expect(data(res).signedOnly ?? null).toBeNull();
    expect(errorCodes(res)).toContain('SIGNATURE_REQUIRED');
    expect(ran).not.toContain('signedOnly:jwt');
  });

  it('red team 6: a signature without nonce and content-type is refused at a stricter field next to a looser one', async () => {
    const unsigned = { nonce: false, components: ['@method', '@authority', '@path', 'content-digest'] };
    const alone = await signedPost('{ strict }', unsigned);
    expect(data(alone).strict ?? null).toBeNull();
    ran.length = 0;
    const both = await signedPost('{ signedOnly strict }', unsigned);
    expect(data(both).strict ?? null).toBeNull();
    expect(ran.filter((r) => r.startsWith('strict:'))).toEqual([]);
  });

  it('red team 6: in a batch, a client JWT is refused at a @RequireSignature() mutation beside a plain one', async () => {
    await t.post([{ query: 'mutation { plainWrite }' }, { query: 'mutation { signedWrite }' }], {
      authorization: await jwt(),
    });
    expect(ran).not.toContain('signedWrite:jwt');
  });

  it('a client JWT is refused at the @RequireSignature() mutation that follows a plain one', async () => {
    const res = await t.post(
      { query: 'mutation { plainWrite signedWrite }' },
      { authorization: await jwt() },
    );
    expect(ran).toEqual(['plainWrite:jwt']);
    expect(errorCodes(res)).toEqual(['SIGNATURE_REQUIRED']);
  });

  it('red team 6: a signed request runs two mutations under equal @RequireSignature({}) policies (not a false refusal)', async () => {
    const res = await signedPost('mutation { signedWrite signedWrite2 }');
    expect(errorCodes(res)).toEqual([]);
    expect(ran).toEqual(['signedWrite:http-signature-rfc9421', 'signedWrite2:http-signature-rfc9421']);
  });

  it('red team 6: a valid client JWT reaching five guarded fields is one audit event per request', async () => {
    const res = await t.post(
      { query: '{ a: plain b: plain c: plain d: plain e: plain }' },
      { authorization: await jwt() },
    );
    expect(data(res)).toEqual({ a: 'jwt', b: 'jwt', c: 'jwt', d: 'jwt', e: 'jwt' });
    expect(events.map((e) => e.event)).toEqual(['auth.success']);
  });

  it('red team 6: a client JWT with an Idempotency-Key on three mutations is refused with one audit event per request', async () => {
    const res = await t.post(
      { query: 'mutation { a: plainWrite b: plainWrite c: plainWrite }' },
      { authorization: await jwt(), 'idempotency-key': '"k1"' },
    );
    expect(ran).toEqual([]);
    expect(new Set(errorCodes(res))).toEqual(new Set(['IDEMPOTENCY_KEY_NOT_SUPPORTED']));
    expect(events).toHaveLength(1);
  });

  it('a client JWT signed by another key on three mutations is refused with one audit event per request', async () => {
    const res = await t.post(
      { query: 'mutation { a: plainWrite b: plainWrite c: plainWrite }' },
      { authorization: await jwtHeader(STRANGER.privateKey, 'reader', 'reader-key') },
    );
    expect(ran).toEqual([]);
    expect(errorCodes(res).length).toBeGreaterThan(0);
    expect(events.map((e) => e.event)).toEqual(['auth.failure']);
  });

  it('red team 6: an unauthenticated request with an Idempotency-Key and 2,000 aliased mutations is one audit event and one log line', async () => {
    const before = t.logs.failures().length;
    const res = await t.post(
      { query: `mutation { ${aliases(2000, 'plainWrite')} }` },
      { 'idempotency-key': '"k1"' },
    );
    expect(res.status).toBeLessThan(500);
    expect(ran).toEqual([]);
    expect(events).toHaveLength(1);
    expect(t.logs.failures().length - before).toBe(1);
  });

  it('red team 6: @Idempotent() on a mutation resolver is refused (IDEMPOTENCY_KEY_NOT_SUPPORTED), never a 500', async () => {
    const errorsBefore = t.logs.entries.filter((e) => e.level === 'error').length;
    const res = await t.post({ query: 'mutation { idemWrite }' }, { authorization: await jwt() });
    expect(res.status).toBeLessThan(500);
    expect(data(res).idemWrite ?? null).toBeNull();
    expect(errorCodes(res)).toEqual(['IDEMPOTENCY_KEY_NOT_SUPPORTED']);
    expect(ran).toEqual([]);
    expect(t.logs.entries.filter((e) => e.level === 'error').length).toBe(errorsBefore);
  });
});

describe.each(GRAPHQL_SERVERS)('GraphQL red team on %s: refusals are not amplified', (server) => {
  let t: RedTeamGraphQLApp;
  const alice = () => jwtHeader(READER.privateKey, 'alice', 'alice');

  beforeAll(async () => {
    t = await createRedTeamGraphQLApp(server, [RedTeamResolver], {
      throttle: { maxFailures: 5, by: ['keyId'] },
    });
    await registerUser(t, 'alice', ['reader'], 'alice', READER.publicPem);
  });
  afterAll(() => t.close());
  beforeEach(() => {
    ran.length = 0;
  });

  it('red team 6: an unauthenticated request with an Idempotency-Key and 2,000 @Public() mutations is refused with one log line', async () => {
    const before = t.logs.failures().length;
    const res = await t.post(
      { query: `mutation { ${aliases(2000, 'ping')} }` },
      { 'idempotency-key': '"k1"' },
    );
    expect(res.status).toBeLessThan(500);
    expect(ran).toEqual([]);
    expect(t.logs.failures().length - before).toBe(1);
  });

  it('red team 6: a reader reaching an @Roles() field 200 times is refused with one log line', async () => {
    const before = t.logs.failures().length;
    const res = await t.post({ query: `{ ${aliases(200, 'adminOnly')} }` }, { authorization: await alice() });
    expect(ran).toEqual([]);
    expect(new Set(errorCodes(res)).size).toBe(1);
    expect(t.logs.failures().length - before).toBe(1);
  });

  it('red team 6: six refused @RequireSignature() fields in one request do not throttle a valid key', async () => {
    await t.post(
      { query: `mutation { plainWrite ${aliases(6, 'signedWrite')} }` },
      { authorization: await alice() },
    );
    expect(ran).toEqual(['plainWrite:jwt']);
    const next = await t.post({ query: '{ plain }' }, { authorization: await alice() });
    expect(next.status).toBe(200);
    expect(data(next)).toEqual({ plain: 'jwt' });
  });
});

describe('GraphQL red team on apollo: cache-control', () => {
  let t: RedTeamGraphQLApp;
  const alice = () => jwtHeader(READER.privateKey, 'alice', 'alice');

  beforeAll(async () => {
    t = await createRedTeamGraphQLApp(
      'apollo',
      [RedTeamResolver],
      {},
      { plugins: [ApolloServerPluginCacheControl({ defaultMaxAge: 60 })] },
    );
    await registerUser(t, 'alice', ['reader'], 'alice', READER.publicPem);
  });
  afterAll(() => t.close());

  it('red team 6: an authenticated answer is no-store under a cache-control plugin with defaultMaxAge', async () => {
    const get = await send(`${t.url}/graphql?query=${encodeURIComponent('{ plain }')}`, {
      method: 'GET',
      headers: { authorization: await alice(), 'apollo-require-preflight': '1' },
    });
    expect(data(get)).toEqual({ plain: 'jwt' });
    expect(get.headers['cache-control']).toBe('no-store');
    const post = await t.post({ query: '{ plain }' }, { authorization: await alice() });
    expect(data(post)).toEqual({ plain: 'jwt' });
    expect(post.headers['cache-control']).toBe('no-store');
  });
});
