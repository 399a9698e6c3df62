import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { signRequest } from '../../src/client';
import { jwtHeader } from '../support/auth';
import { SendResult } from '../support/certificates';
import { testKey } from '../support/keys';
import { REPO } from '../support/processes';
import { createGraphQLApp, GRAPHQL_SERVERS, GraphQLServerName, GraphQLTestApp } from '../support/graphql-app';

/**
 * Issue 17: KeypairAuthGuard, RolesGuard, @Roles, @Public and @CurrentSecurityContext() in
 * GraphQL resolvers, on Apollo Server over Express and on Mercurius over Fastify, with the
 * real KeypairAuthModule, the default Nest GraphQL options and fieldResolverEnhancers: ['guards'].
 */
const READER = testKey('ed25519', 0);
const ADMIN = testKey('ed25519', 1);

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { path?: unknown[]; extensions?: { code?: string; status?: number } }[];
}

const body = (res: SendResult): Body => res.body as Body;
const codes = (res: SendResult) =>
  (body(res).errors ?? []).map((e) => [e.path?.join('.'), e.extensions?.code]);

describe.each(GRAPHQL_SERVERS)('GraphQL guards on %s', (server: GraphQLServerName) => {
  let t: GraphQLTestApp;
  const reader = () => jwtHeader(READER.privateKey, 'reader', 'reader-key');
  const admin = () => jwtHeader(ADMIN.privateKey, 'admin', 'admin-key');
  /** Every answer of this block, to check that none was a 5xx. */
  const statuses: number[] = [];
  /** POSTs a document (a string), a batch (an array), or `{ raw }`: body bytes sent as they are. */
  const post = async (query: string | unknown[] | { raw: string }, headers: Record<string, string> = {}) => {
    const payload = typeof query === 'string' ? { query } : 'raw' in query ? query.raw : query;
    const res = await t.post(payload, headers);
    statuses.push(res.status);
    return res;
  };
  /** An RFC 9421 POST of `document` with a nonce and Content-Digest, signed by the client SDK. */
  const signed = (document: string) => {
    const text = JSON.stringify({ query: document });
    const { headers } = signRequest(
      {
        method: 'POST',
        url: `${t.server}/graphql`,
        headers: { 'content-type': 'application/json' },
        body: text,
      },
      { keyId: 'reader-key', privateKey: READER.privateKey },
    );
    return { text, headers, nonce: /nonce="([^"]+)"/.exec(headers['signature-input'])![1] };
  };

  beforeAll(async () => {
    t = await createGraphQLApp({ server, batching: true });
    await t.registry.register(await t.addUser('reader', ['reader']), READER.publicPem, {
      keyId: 'reader-key',
    });
    await t.registry.register(await t.addUser('admin', ['admin']), ADMIN.publicPem, { keyId: 'admin-key' });
  });
  afterAll(() => t?.close());

  it('@CurrentSecurityContext() in a query resolver gives the authenticated context', async () => {
    const res = await post('{ whoami { username keyId method roles } }', { authorization: await admin() });
    expect(res.status).toBe(200);
    expect(body(res)).toEqual({
      data: { whoami: { username: 'admin', keyId: 'admin-key', method: 'jwt', roles: ['admin'] } },
    });
  });

  it('@Public() resolvers run without credentials, query and mutation', async () => {
    const res = await post('{ open }');
    expect(body(res)).toEqual({ data: { open: 'open' } });
    const mutation = await post('mutation { ping }');
    expect(body(mutation)).toEqual({ data: { ping: 'pong' } });
  });

  it("@Roles('admin') on a query resolver: a reader key gets a GraphQL error with extensions.code ROLE_REQUIRED", async () => {
    const res = await post('{ adminSecret }', { authorization: await reader() });
    expect(res.status).toBe(200);
    expect(body(res).data).toEqual({ adminSecret: null });
    expect(codes(res)).toEqual([['adminSecret', 'ROLE_REQUIRED']]);
    expect(body(res).errors![0].extensions!.status).toBe(403);
    const allowed = await post('{ adminSecret }', { authorization: await admin() });
    expect(body(allowed)).toEqual({ data: { adminSecret: 'for admin' } });
  });

  it("a field-level role failure (@ResolveField with @Roles('admin')) nulls that field with its error; the other fields are returned", async () => {
    const res = await post('{ account { name secret } whoami { username } }', {
      authorization: await reader(),
    });
    expect(res.status).toBe(200);
    expect(body(res).data).toEqual({
      account: { name: "reader's account", secret: null },
      whoami: { username: 'reader' },
    });
    expect(codes(res)).toEqual([['account.secret', 'ROLE_REQUIRED']]);
    const allowed = await post('{ account { secret } }', { authorization: await admin() });
    expect(body(allowed)).toEqual({ data: { account: { secret: "secret of admin's account" } } });
  });

  it('RolesGuard alone in a resolver refuses without a SecurityContext (CREDENTIALS_MISSING), never allows', async () => {
    const res = await post('{ rolesGuardOnly }', { authorization: await admin() });
    expect(body(res).data).toEqual({ rolesGuardOnly: null });
    expect(codes(res)).toEqual([['rolesGuardOnly', 'CREDENTIALS_MISSING']]);
  });

  it('@RequireSignature() on a resolver: one authentication, under the policy of the first guarded field; a field of another policy is refused', async () => {
    // Signed, the marked field first: verified under its policy, and the unmarked field shares the context.
    const first = signed('{ signedOnly me }');
    const a = await post({ raw: first.text }, first.headers);
    expect(body(a)).toEqual({ data: { signedOnly: 'http-signature-rfc9421', me: 'reader' } });
    // Signed, the unmarked field first: verified under the default policy; the marked field is refused.
    const second = signed('{ me signedOnly }');
    const b = await post({ raw: second.text }, second.headers);
    expect(body(b).data).toEqual({ me: 'reader', signedOnly: null });
    expect(codes(b)).toEqual([['signedOnly', 'SIGNATURE_REQUIRED']]);
    // A JWT never reaches the marked field; in second place the unmarked field before it still runs.
    const c = await post('{ me signedOnly }', { authorization: await reader() });
    expect(body(c).data).toEqual({ me: 'reader', signedOnly: null });
    expect(codes(c)).toEqual([['signedOnly', 'SIGNATURE_REQUIRED']]);
    // In first place its refusal is the request's: every guarded field shares it (fail closed).
    const d = await post('{ signedOnly g1 }', { authorization: await reader() });
    expect(body(d).data).toEqual({ signedOnly: null, g1: null });
    expect(codes(d).sort()).toEqual([
      ['g1', 'SIGNATURE_REQUIRED'],
      ['signedOnly', 'SIGNATURE_REQUIRED'],
    ]);
  });

  it('a replayed signed request (RFC 9421 with a nonce, byte for byte) gives REPLAYED', async () => {
    const { text, headers } = signed('{ whoami { username } }');
    const first = await post({ raw: text }, headers);
    expect(body(first)).toEqual({ data: { whoami: { username: 'reader' } } });
    const again = await post({ raw: text }, headers);
    expect(body(again).data).toEqual({ whoami: null });
    expect(codes(again)).toEqual([['whoami', 'REPLAYED']]);
    expect(body(again).errors![0].extensions!.status).toBe(401);
  });

  it('a request reaching 5 guarded resolvers claims its nonce once, and all 5 see the same SecurityContext', async () => {
    const { text, headers, nonce } = signed('{ g1 g2 g3 g4 g5 }');
    const claimsBefore = t.store.claims.length;
    const seenBefore = t.resolvers.contexts.length;
    const res = await post({ raw: text }, headers);
    expect(body(res)).toEqual({
      data: { g1: 'reader', g2: 'reader', g3: 'reader', g4: 'reader', g5: 'reader' },
    });
    // The store (a MemoryReplayStore that counts) was asked once, for this request's nonce.
    expect(t.store.claims.slice(claimsBefore)).toEqual([{ scope: 'sig-nonce:reader-key', nonce }]);
    const seen = t.resolvers.contexts.slice(seenBefore);
    expect(seen.map(([name]) => name).sort()).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
    expect(new Set(seen.map(([, ctx]) => ctx)).size).toBe(1);
    // A guarded query, a guarded field resolver and a role check in one request: still one claim.
    const jwtClaims = t.store.claims.length;
    await post('{ g1 whoami { username } account { name secret } adminSecret }', {
      authorization: await admin(),
    });
    expect(t.store.claims.length - jwtClaims).toBe(1);
  });

  it('a refused request reaching 5 guarded resolvers is refused once: 5 errors with its code, one log line', async () => {
    const { text, headers } = signed('{ g1 g2 g3 g4 g5 }');
    await post({ raw: text }, headers);
    const logged = t.logs.failures().length;
    const again = await post({ raw: text }, headers);
    expect(body(again).data).toEqual({ g1: null, g2: null, g3: null, g4: null, g5: null });
    expect(codes(again).map(([, code]) => code)).toEqual(Array(5).fill('REPLAYED'));
    expect(
      t.logs
        .failures()
        .slice(logged)
        .map((f) => f.code),
    ).toEqual(['REPLAYED']);
  });

  it('a batch of guarded operations under one credential is authenticated once', async () => {
    const before = t.store.claims.length;
    const res = await post([{ query: '{ g1 }' }, { query: '{ g2 whoami { username } }' }], {
      authorization: await reader(),
    });
    expect(res.body).toEqual([
      { data: { g1: 'reader' } },
      { data: { g2: 'reader', whoami: { username: 'reader' } } },
    ]);
    expect(t.store.claims.length - before).toBe(1);
  });

  it('refusals are GraphQL errors with the stable code, whatever the failure', async () => {
    const missing = await post('{ whoami { username } }');
    expect(codes(missing)).toEqual([['whoami', 'CREDENTIALS_MISSING']]);
    const malformed = await post('{ whoami { username } }', { authorization: 'JWT not.a.token' });
    expect(codes(malformed)).toEqual([['whoami', 'MALFORMED_CREDENTIALS']]);
    const stranger = await post('{ whoami { username } }', {
      authorization: await jwtHeader(testKey('ed25519', 2).privateKey, 'reader', 'reader-key'),
    });
    expect(codes(stranger)).toEqual([['whoami', 'KEY_UNKNOWN_OR_SIGNATURE_INVALID']]);
  });

  it('Idempotency-Key on a mutation is refused (IDEMPOTENCY_KEY_NOT_SUPPORTED) before the resolver runs, on a guarded mutation, with valid credentials', async () => {
    const ran = t.resolvers.mutations.length;
    const res = await post('mutation { transfer(amount: 5) }', {
      authorization: await reader(),
      'idempotency-key': '"retry-1"',
    });
    expect(codes(res)).toEqual([['transfer', 'IDEMPOTENCY_KEY_NOT_SUPPORTED']]);
    expect(body(res).errors![0].extensions!.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('REST endpoint with @Idempotent()');
    expect(t.resolvers.mutations.length).toBe(ran);
  });

  it('Idempotency-Key on a mutation is refused (IDEMPOTENCY_KEY_NOT_SUPPORTED) before the resolver runs, on a @Public() mutation too', async () => {
    const ran = t.resolvers.mutations.length;
    const res = await post('mutation { ping }', { 'idempotency-key': '"retry-2"' });
    expect(codes(res)).toEqual([['ping', 'IDEMPOTENCY_KEY_NOT_SUPPORTED']]);
    expect(t.resolvers.mutations.length).toBe(ran);
  });

  it('Idempotency-Key is not refused on a query; a mutation without it runs', async () => {
    const query = await post('{ whoami { username } }', {
      authorization: await reader(),
      'idempotency-key': '"retry-3"',
    });
    expect(body(query)).toEqual({ data: { whoami: { username: 'reader' } } });
    const mutation = await post('mutation { transfer(amount: 7) }', { authorization: await reader() });
    expect(body(mutation)).toEqual({ data: { transfer: 7 } });
  });

  it('Idempotency-Key on a batch: the query runs, the mutation is refused', async () => {
    const ran = t.resolvers.mutations.length;
    const res = await post([{ query: '{ g1 }' }, { query: 'mutation { transfer(amount: 9) }' }], {
      authorization: await reader(),
      'idempotency-key': '"retry-4"',
    });
    const [query, mutation] = res.body as unknown as Body[];
    expect(query).toEqual({ data: { g1: 'reader' } });
    expect(mutation.data).toEqual({ transfer: null });
    expect(mutation.errors!.map((e) => e.extensions!.code)).toEqual(['IDEMPOTENCY_KEY_NOT_SUPPORTED']);
    expect(t.resolvers.mutations.length).toBe(ran);
  });

  it('answered every request without a 5xx, and logged no error (no ExceptionsHandler line) for the refusals', () => {
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(t.logs.entries.filter((e) => e.level === 'error' || e.context === 'ExceptionsHandler')).toEqual(
      [],
    );
    // The refusals were logged, as warnings with their reason.
    expect(t.logs.failures().map((f) => f.code)).toEqual(
      expect.arrayContaining([
        'ROLE_REQUIRED',
        'REPLAYED',
        'CREDENTIALS_MISSING',
        'IDEMPOTENCY_KEY_NOT_SUPPORTED',
      ]),
    );
  });
});

/**
 * The HTTP status of a refusal, per server and option, as measured here (docs/graphql.md has
 * this table). Authentication failures (401/429/503) and IDEMPOTENCY_KEY_NOT_SUPPORTED (400)
 * ask for a status (`extensions.http.status` for Apollo, `statusCode` for Mercurius); a role
 * failure (403) never does, so a partial answer keeps its 200.
 */
/** A status the server picks by timing (see the batch case): 200 or 401. */
const ANY = -1;

describe('the HTTP status of a refusal', () => {
  const configs = [
    ['apollo (default)', 'apollo', {}],
    [
      'apollo (preserveHttpStatusForExecutionErrors: false)',
      'apollo',
      { preserveHttpStatusForExecutionErrors: false },
    ],
    ['mercurius (default)', 'mercurius', {}],
  ] as const;
  /** [what, document (an array: a batch), credentials?, extra headers, expected status per config]. */
  const cases: [string, string | string[], boolean, Record<string, string>, [number, number, number]][] = [
    ['401 in a batch, data: null in every operation', ['{ me }', '{ me }'], false, {}, [200, 401, 401]],
    [
      '401 in a batch, data kept in one operation',
      ['{ me }', '{ whoami { username } }'],
      false,
      {},
      // Mercurius runs a batch's operations side by side and each sets the reply's status:
      // the last to finish decides, 200 or 401 (ANY).
      [200, 401, ANY],
    ],
    ['401 on a nullable field (data kept)', '{ whoami { username } }', false, {}, [200, 401, 200]],
    ['401 on a non-null field (data: null)', '{ me }', false, {}, [200, 401, 401]],
    [
      '401 on two fields, one non-null (data: null, two errors)',
      '{ me whoami { username } }',
      false,
      {},
      [200, 401, 200],
    ],
    ['403 ROLE_REQUIRED', '{ adminSecret }', true, {}, [200, 200, 200]],
    [
      '400 IDEMPOTENCY_KEY_NOT_SUPPORTED, nullable mutation',
      'mutation { transfer(amount: 1) }',
      true,
      { 'idempotency-key': '"s-1"' },
      [200, 400, 200],
    ],
    [
      '400 IDEMPOTENCY_KEY_NOT_SUPPORTED, non-null mutation',
      'mutation { ping }',
      false,
      { 'idempotency-key': '"s-2"' },
      [200, 400, 400],
    ],
  ];

  describe.each(configs.map((c, i) => [c[0], c, i] as const))(
    '%s',
    (_label, [, server, driverOptions], index) => {
      let t: GraphQLTestApp;
      beforeAll(async () => {
        t = await createGraphQLApp({ server, driverOptions, batching: true });
        await t.registry.register(await t.addUser('reader', ['reader']), READER.publicPem, {
          keyId: 'reader-key',
        });
      });
      afterAll(() => t?.close());

      it.each(cases)('%s', async (_what, document, credentials, headers, expected) => {
        const auth: Record<string, string> = credentials
          ? { authorization: await jwtHeader(READER.privateKey, 'reader', 'reader-key') }
          : {};
        const payload = Array.isArray(document) ? document.map((query) => ({ query })) : { query: document };
        const res = await t.post(payload, { ...auth, ...headers });
        const results = (Array.isArray(res.body) ? res.body : [res.body]) as Body[];
        const errorsPerResult = Array.isArray(document) ? 1 : document.startsWith('{ me whoami') ? 2 : 1;
        expect(results.map((r) => r.errors?.length)).toEqual(results.map(() => errorsPerResult));
        if (expected[index] === ANY) expect([200, 401]).toContain(res.status);
        else expect(res.status).toBe(expected[index]);
      });
    },
  );
});

describe.each(GRAPHQL_SERVERS)('request-wide refusals on %s: 429 and 503', (server) => {
  let throttled: GraphQLTestApp;
  let plain: GraphQLTestApp;
  beforeAll(async () => {
    throttled = await createGraphQLApp({
      server,
      options: { throttle: { maxFailures: 2, windowSeconds: 60 } },
    });
    plain = await createGraphQLApp({ server });
    for (const t of [throttled, plain])
      await t.registry.register(await t.addUser('reader', ['reader']), READER.publicPem, {
        keyId: 'reader-key',
      });
  });
  afterAll(() => Promise.all([throttled?.close(), plain?.close()]));

  it('a client over the failure limit gets AUTH_THROTTLED (429) on every guarded field, with Retry-After', async () => {
    const t = throttled;
    for (let i = 0; i < 2; i++) await t.post({ query: '{ me }' }, { authorization: 'JWT bad.token.here' });
    const res = await t.post(
      { query: '{ me g1 }' },
      { authorization: await jwtHeader(READER.privateKey, 'reader', 'reader-key') },
    );
    expect(codes(res).sort()).toEqual([
      ['g1', 'AUTH_THROTTLED'],
      ['me', 'AUTH_THROTTLED'],
    ]);
    expect(body(res).errors![0].extensions!.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    // data is null (me is non-null) but there are two errors: Mercurius sends a status only
    // for one error, Apollo keeps 200 by default. One error alone gets its 429 on Mercurius.
    expect(res.status).toBe(200);
    const alone = await t.post(
      { query: '{ me }' },
      { authorization: await jwtHeader(READER.privateKey, 'reader', 'reader-key') },
    );
    expect(codes(alone)).toEqual([['me', 'AUTH_THROTTLED']]);
    expect(alone.status).toBe(server === 'mercurius' ? 429 : 200);
    expect(t.logs.entries.filter((e) => e.level === 'error' || e.context === 'ExceptionsHandler')).toEqual(
      [],
    );
  });

  it('a replay store that cannot answer gives AUTH_BACKEND_UNAVAILABLE (503), never a 500 or an unhandled error', async () => {
    const t = plain;
    const text = JSON.stringify({ query: '{ me }' });
    const { headers } = signRequest(
      {
        method: 'POST',
        url: `${t.server}/graphql`,
        headers: { 'content-type': 'application/json' },
        body: text,
      },
      { keyId: 'reader-key', privateKey: READER.privateKey },
    );
    t.store.failing = true;
    let res: SendResult;
    try {
      res = await t.post(text, headers);
    } finally {
      t.store.failing = false;
    }
    expect(codes(res)).toEqual([['me', 'AUTH_BACKEND_UNAVAILABLE']]);
    expect(body(res).errors![0].extensions!.status).toBe(503);
    expect(res.status).toBe(server === 'mercurius' ? 503 : 200);
    // The outage is an error log of the library (so that it is seen); Nest logged no unhandled error.
    const errors = t.logs.entries.filter((e) => e.level === 'error' || e.context === 'ExceptionsHandler');
    expect(errors.map((e) => e.context)).toEqual(['KeypairAuth']);
    expect(errors[0].message).toContain('authentication backend unavailable');
  });
});

describe.each(GRAPHQL_SERVERS)('an app context without req on %s', (server) => {
  it('a `context` function that leaves req out still authenticates the HTTP request (the driver adds req back)', async () => {
    const t = await createGraphQLApp({ server, context: (() => ({ tenant: 'acme' })) as never });
    try {
      await t.registry.register(await t.addUser('reader', ['reader']), READER.publicPem, {
        keyId: 'reader-key',
      });
      const ok = await t.post(
        { query: '{ whoami { username } }' },
        { authorization: await jwtHeader(READER.privateKey, 'reader', 'reader-key') },
      );
      expect(ok.body).toEqual({ data: { whoami: { username: 'reader' } } });
      const missing = await t.post({ query: '{ whoami { username } }' });
      expect(codes(missing)).toEqual([['whoami', 'CREDENTIALS_MISSING']]);
    } finally {
      await t.close();
    }
  });
});

describe.each(GRAPHQL_SERVERS)('field resolvers on %s', (server) => {
  it("without fieldResolverEnhancers: ['guards'], @Roles on a @ResolveField is not enforced (why docs/graphql.md requires the option)", async () => {
    const t = await createGraphQLApp({ server, fieldGuards: false });
    try {
      await t.registry.register(await t.addUser('reader', ['reader']), READER.publicPem, {
        keyId: 'reader-key',
      });
      const res = await t.post(
        { query: '{ account { secret } }' },
        { authorization: await jwtHeader(READER.privateKey, 'reader', 'reader-key') },
      );
      expect(res.body).toEqual({ data: { account: { secret: "secret of reader's account" } } });
    } finally {
      await t.close();
    }
  });
});

describe('loading the library', () => {
  const dist = join(REPO, 'dist/src/index.js');
  it('does not load @nestjs/graphql, graphql, @apollo/server or mercurius (built dist/, a fresh Node process)', () => {
    // `npm test` builds dist/ first; a missing build is a failure here, not a skip.
    expect(existsSync(dist) ? dist : `${dist} missing: run npm run build`).toBe(dist);
    const script = `require(${JSON.stringify(dist)});
const names = new Set(Object.keys(require.cache).filter((f) => f.includes('/node_modules/'))
  .map((f) => f.split('/node_modules/').pop().split('/')).map((p) => (p[0].startsWith('@') ? p[0] + '/' + p[1] : p[0])));
console.log(JSON.stringify([...names]));`;
    const run = spawnSync(process.execPath, ['-e', script], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(0);
    const loaded = JSON.parse(run.stdout) as string[];
    expect(loaded).toContain('@nestjs/common');
    for (const name of ['@nestjs/graphql', 'graphql', '@nestjs/apollo', '@apollo/server', 'mercurius'])
      expect(loaded).not.toContain(name);
  });
});
