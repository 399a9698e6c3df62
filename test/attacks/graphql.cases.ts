import { signRequest, SignRequestOptions } from '../../src/client';
import { send, SendOptions, SendResult } from '../support/certificates';
import { jwtHeader } from '../support/auth';
import { testKey } from '../support/keys';
import { createGraphQLApp, GraphQLServerName, GraphQLTestApp } from '../support/graphql-app';
import type { AdapterName, TestApp } from '../support/test-app';
import { attackSuite } from './attack-suite';

/**
 * Issue 17: attacks on GraphQL endpoints, on Apollo Server over Express ("express") and on
 * Mercurius over Fastify ("fastify"), with batching on and the default Nest options.
 *
 * A GraphQL refusal is read as the client reads it: the code is `errors[].extensions.code`,
 * the one code every error of the answer (every operation of a batch) carries; the status is
 * the HTTP status when it is 400 or more, else (Apollo keeps 200 by default, Mercurius when
 * some `data` is left) the `extensions.status` those errors carry. The
 * answer counts as a refusal only if no guarded field returned data and no mutation ran:
 * otherwise the code is DATA_RETURNED or MUTATION_RAN, which no case expects.
 */
interface GraphQLEnv {
  readonly t: TestApp & GraphQLTestApp;
  /** The same schema under an app whose GraphQL `context` hands the resolvers a copy of `req`. */
  readonly copying: GraphQLTestApp;
}

const KEY = testKey('ed25519', 0);
const KEY_ID = 'gql-alice';
const SERVER: Record<AdapterName, GraphQLServerName> = { express: 'apollo', fastify: 'mercurius' };

/** A guarded, non-null query, a guarded mutation, and a public query. */
const ME = '{ me }';
const TRANSFER = 'mutation { transfer(amount: 1000) }';
const OPEN = '{ open }';

interface GraphQLResult {
  data?: Record<string, unknown> | null;
  errors?: { extensions?: { code?: unknown; status?: unknown } }[];
}

/** The answer as a refusal `judge` can read (see the file comment). */
function graphqlRefusal(env: GraphQLEnv, res: SendResult, mutationsBefore: number): SendResult {
  const results = (Array.isArray(res.body) ? res.body : [res.body]) as GraphQLResult[];
  const errors = results.flatMap((r) => r.errors ?? []);
  const codes = [...new Set(errors.map((e) => String(e.extensions?.code)))];
  const statuses = [...new Set(errors.map((e) => Number(e.extensions?.status)))];
  let code: string;
  if (mutationsRun(env) !== mutationsBefore) code = 'MUTATION_RAN';
  else if (results.some((r) => r.errors === undefined || Object.values(r.data ?? {}).some((v) => v !== null)))
    code = 'DATA_RETURNED';
  else code = codes.length === 1 ? codes[0] : `MIXED ${codes.join(',')}`;
  const status = res.status >= 400 || statuses.length !== 1 ? res.status : statuses[0];
  return { ...res, status, body: { code } };
}

/** Mutations run so far by either app. */
function mutationsRun(env: GraphQLEnv): number {
  return env.t.resolvers.mutations.length + env.copying.resolvers.mutations.length;
}

/** Runs `attack` and reads its answer as a GraphQL refusal. */
async function refusal(env: GraphQLEnv, attack: () => Promise<SendResult>): Promise<SendResult> {
  const before = mutationsRun(env);
  return graphqlRefusal(env, await attack(), before);
}

function post(
  t: GraphQLTestApp,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<SendResult> {
  return send(`${t.server}${path}`, { method: 'POST', headers, body } satisfies SendOptions);
}

/** Headers of an RFC 9421 POST (nonce, Content-Digest) of `body` to /graphql, signed by the SDK. */
function signedPost(
  t: GraphQLTestApp,
  body: string,
  contentType = 'application/json',
  options: Partial<SignRequestOptions> = {},
): Record<string, string> {
  return signRequest(
    { method: 'POST', url: `${t.server}/graphql`, headers: { 'content-type': contentType }, body },
    { keyId: KEY_ID, privateKey: KEY.privateKey, ...options },
  ).headers;
}

/** Apollo's CSRF prevention refuses a GET without a preflight header before any resolver runs. */
const PREFLIGHT = { 'apollo-require-preflight': 'true' };

function query(doc: string): string {
  return `/graphql?query=${encodeURIComponent(doc)}`;
}

const jwt = () => jwtHeader(KEY.privateKey, 'alice', KEY_ID);

export const GRAPHQL_SUITE = attackSuite<GraphQLEnv>({
  name: 'graphql',
  setup: async (adapter) => {
    const server = SERVER[adapter];
    const t = await createGraphQLApp({ server, batching: true });
    const copying = await createGraphQLApp({
      server,
      logs: t.logs,
      // An app that builds its own request-like object for the resolvers (a common pattern
      // to expose "just the headers"): the guard must not authenticate from it.
      context: ((arg: { req?: { headers: unknown }; headers?: unknown }) => ({
        req: { headers: (arg.req ?? arg).headers },
      })) as never,
    });
    for (const app of [t, copying])
      await app.registry.register(await app.addUser('alice', ['reader']), KEY.publicPem, { keyId: KEY_ID });
    return { t, copying };
  },
  teardown: async (env) => {
    await Promise.all([env.t.close(), env.copying.close()]);
  },
  cases: [
    // A credential where the guard does not look.
    {
      name: 'graphql/jwt-in-extensions',
      attack: 'a valid JWT in the GraphQL request’s `extensions`, hoping a resolver layer reads it',
      request: 'POST /graphql {"query":"{ me }","extensions":{"authorization":"JWT <valid>"}}',
      expect: { status: 401, code: 'CREDENTIALS_MISSING' },
      run: async (env) => {
        const body = JSON.stringify({ query: ME, extensions: { authorization: await jwt() } });
        return refusal(env, () => post(env.t, '/graphql', body, { 'content-type': 'application/json' }));
      },
    },
    {
      name: 'graphql/jwt-in-variables',
      attack: 'a valid JWT as a GraphQL variable',
      request: 'POST /graphql {"query":"{ me }","variables":{"authorization":"JWT <valid>"}}',
      expect: { status: 401, code: 'CREDENTIALS_MISSING' },
      run: async (env) => {
        const body = JSON.stringify({ query: ME, variables: { authorization: await jwt() } });
        return refusal(env, () => post(env.t, '/graphql', body, { 'content-type': 'application/json' }));
      },
    },
    {
      name: 'graphql/jwt-in-query-string',
      attack: 'a valid JWT in the query string (authorization=, access_token=)',
      request: 'POST /graphql?authorization=JWT%20<valid>&access_token=<valid>',
      expect: { status: 401, code: 'CREDENTIALS_MISSING' },
      run: async (env) => {
        const token = await jwt();
        const path = `/graphql?authorization=${encodeURIComponent(token)}&access_token=${encodeURIComponent(token.slice(4))}`;
        const body = JSON.stringify({ query: ME });
        return refusal(env, () => post(env.t, path, body, { 'content-type': 'application/json' }));
      },
    },
    {
      name: 'graphql/signature-in-extensions',
      attack: 'the Signature-Input and Signature of a real signed request moved into `extensions`',
      request: 'POST /graphql {"query":"{ me }","extensions":{"signature-input":…,"signature":…}}',
      expect: { status: 401, code: 'CREDENTIALS_MISSING' },
      run: async (env) => {
        const signed = signedPost(env.t, JSON.stringify({ query: ME }));
        const body = JSON.stringify({ query: ME, extensions: signed });
        return refusal(env, () => post(env.t, '/graphql', body, { 'content-type': 'application/json' }));
      },
    },
    {
      name: 'graphql/context-hands-a-copy-of-req',
      attack:
        'an app whose GraphQL context gives resolvers `req: { headers }` (a copy, not the HTTP request); a valid JWT in the headers',
      request: 'POST /graphql {"query":"{ me }"} with Authorization: JWT <valid>, to the copying app',
      expect: { status: 401, code: 'CREDENTIALS_MISSING' },
      run: async (env) => {
        const body = JSON.stringify({ query: ME });
        const headers = { 'content-type': 'application/json', authorization: await jwt() };
        return refusal(env, () => post(env.copying, '/graphql', body, headers));
      },
    },
    // Batches.
    {
      name: 'graphql/batch-unsigned-sibling',
      attack:
        'a request signed over one operation sent as a batch of that operation and an unsigned mutation, with its headers',
      request:
        'POST /graphql [{ me }, mutation { transfer }] under the signature (and Content-Digest) of {"query":"{ me }"}',
      expect: { status: 401, code: 'DIGEST_MISMATCH' },
      run: async (env) => {
        const headers = signedPost(env.t, JSON.stringify({ query: ME }));
        const body = JSON.stringify([{ query: ME }, { query: TRANSFER }]);
        return refusal(env, () => post(env.t, '/graphql', body, headers));
      },
    },
    {
      name: 'graphql/batch-replayed',
      attack: 'a signed batch (nonce, Content-Digest) accepted once, then sent again byte for byte',
      request: 'the same POST /graphql [{ me }, { me }] twice',
      expect: { status: 401, code: 'REPLAYED' },
      run: async (env) => {
        const body = JSON.stringify([{ query: ME }, { query: ME }]);
        const headers = signedPost(env.t, body);
        const first = await post(env.t, '/graphql', body, headers);
        if (first.status !== 200 || first.text.includes('errors'))
          throw new Error(`the signed batch was not accepted: ${first.text}`);
        return refusal(env, () => post(env.t, '/graphql', body, headers));
      },
    },
    {
      name: 'graphql/accepted-operation-replayed-in-batch',
      attack: 'a signed single operation accepted once, then replayed wrapped in a batch, under its headers',
      request: 'POST /graphql {"query":"{ me }"} (accepted), then [{"query":"{ me }"}] with the same headers',
      expect: { status: 401, code: 'DIGEST_MISMATCH' },
      run: async (env) => {
        const single = JSON.stringify({ query: ME });
        const headers = signedPost(env.t, single);
        const first = await post(env.t, '/graphql', single, headers);
        if (first.status !== 200 || first.text.includes('errors'))
          throw new Error(`the signed request was not accepted: ${first.text}`);
        return refusal(env, () => post(env.t, '/graphql', `[${single}]`, headers));
      },
    },
    {
      name: 'graphql/jwt-replayed-in-batch',
      attack: 'a JWT accepted on one request, then replayed with a batch of two operations',
      request: 'Authorization: JWT <used> on POST /graphql [{ me }, { me }]',
      expect: { status: 401, code: 'REPLAYED' },
      run: async (env) => {
        const headers = { 'content-type': 'application/json', authorization: await jwt() };
        const first = await post(env.t, '/graphql', JSON.stringify({ query: ME }), headers);
        if (first.status !== 200 || first.text.includes('errors'))
          throw new Error(`the JWT was not accepted: ${first.text}`);
        const body = JSON.stringify([{ query: ME }, { query: ME }]);
        return refusal(env, () => post(env.t, '/graphql', body, headers));
      },
    },
    // A body or document swapped under its signature.
    {
      name: 'graphql/document-swapped-under-digest',
      attack:
        'RFC 9421 with Content-Digest over one document (a public query), another document sent (a mutation)',
      request:
        'headers signed over {"query":"{ open }"}, body {"query":"mutation { transfer(amount: 1000) }"}',
      expect: { status: 401, code: 'DIGEST_MISMATCH' },
      run: async (env) => {
        const headers = signedPost(env.t, JSON.stringify({ query: OPEN }));
        return refusal(env, () => post(env.t, '/graphql', JSON.stringify({ query: TRANSFER }), headers));
      },
    },
    {
      name: 'graphql/application-graphql-swapped-apollo',
      attack: 'Content-Type: application/graphql, signed over one document, another document sent',
      request: 'POST /graphql (application/graphql) "mutation { transfer }" under a digest of "{ open }"',
      // Apollo Server takes only JSON bodies: the request never reaches a resolver.
      expect: { status: 400, code: 'BAD_REQUEST' },
      adapters: ['express'],
      run: (env) => {
        const headers = signedPost(env.t, OPEN, 'application/graphql');
        return refusal(env, () => post(env.t, '/graphql', TRANSFER, headers));
      },
    },
    {
      name: 'graphql/application-graphql-swapped-mercurius',
      attack: 'Content-Type: application/graphql, signed over one document, another document sent',
      request: 'POST /graphql (application/graphql) "mutation { transfer }" under a digest of "{ open }"',
      // Mercurius parses application/graphql itself, so Nest's rawBody never holds these
      // bytes: a body that cannot be checked against its digest is refused, whatever it is.
      expect: { status: 401, code: 'AUTHENTICATION_FAILED' },
      adapters: ['fastify'],
      run: (env) => {
        const headers = signedPost(env.t, OPEN, 'application/graphql');
        return refusal(env, () => post(env.t, '/graphql', TRANSFER, headers));
      },
    },
    {
      name: 'graphql/get-document-swapped',
      attack: 'a GET signed over ?query={ open }, sent with ?query={ me } under the same headers',
      request: 'GET /graphql?query={ me } with the signature of GET /graphql?query={ open }',
      expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
      run: (env) => {
        const { headers } = signRequest(
          { method: 'GET', url: `${env.t.server}${query(OPEN)}`, headers: PREFLIGHT },
          { keyId: KEY_ID, privateKey: KEY.privateKey },
        );
        return refusal(env, () => send(`${env.t.server}${query(ME)}`, { headers }));
      },
    },
    {
      name: 'graphql/get-query-not-covered',
      attack: 'a GET signed over @method @authority @path only, any document in the query string',
      request: 'GET /graphql?query={ me }, Signature-Input covers ("@method" "@authority" "@path")',
      expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
      run: (env) => {
        const { headers } = signRequest(
          { method: 'GET', url: `${env.t.server}${query(ME)}`, headers: PREFLIGHT },
          { keyId: KEY_ID, privateKey: KEY.privateKey, components: ['@method', '@authority', '@path'] },
        );
        return refusal(env, () => send(`${env.t.server}${query(ME)}`, { headers }));
      },
    },
    {
      name: 'graphql/signed-request-replayed',
      attack: 'an RFC 9421 request with a nonce, accepted once, replayed byte for byte',
      request: 'the same signed POST /graphql {"query":"{ me }"} twice',
      expect: { status: 401, code: 'REPLAYED' },
      run: async (env) => {
        const body = JSON.stringify({ query: ME });
        const headers = signedPost(env.t, body);
        const first = await post(env.t, '/graphql', body, headers);
        if (first.status !== 200 || first.text.includes('errors'))
          throw new Error(`the signed request was not accepted: ${first.text}`);
        return refusal(env, () => post(env.t, '/graphql', body, headers));
      },
    },
    // Decisions of the guard in a resolver.
    {
      name: 'graphql/mutation-with-idempotency-key',
      attack: 'a signed mutation with an Idempotency-Key, expecting a retry to be answered from a store',
      request: 'POST /graphql mutation { transfer } with Idempotency-Key: "k-1"',
      expect: { status: 400, code: 'IDEMPOTENCY_KEY_NOT_SUPPORTED' },
      run: (env) => {
        const body = JSON.stringify({ query: TRANSFER });
        const headers = { ...signedPost(env.t, body), 'idempotency-key': '"k-1"' };
        return refusal(env, () => post(env.t, '/graphql', body, headers));
      },
    },
    {
      name: 'graphql/idempotency-key-behind-copying-context',
      attack:
        'an Idempotency-Key on a @Public() mutation of the app whose context holds a copy of req, hoping the copy hides the header',
      request: 'POST /graphql mutation { ping } with Idempotency-Key: "k-2", to the copying app',
      expect: { status: 400, code: 'IDEMPOTENCY_KEY_NOT_SUPPORTED' },
      run: (env) => {
        const headers = { 'content-type': 'application/json', 'idempotency-key': '"k-2"' };
        return refusal(env, () =>
          post(env.copying, '/graphql', JSON.stringify({ query: 'mutation { ping }' }), headers),
        );
      },
    },
    {
      name: 'graphql/require-signature-joined-by-jwt',
      attack:
        'a JWT request asks first for a plain guarded field, then for a @RequireSignature() field, hoping the second joins the authentication the first started',
      request: 'POST /graphql {"query":"{ me signedOnly }"} with a valid JWT',
      expect: { status: 401, code: 'SIGNATURE_REQUIRED' },
      run: async (env) => {
        const headers = { 'content-type': 'application/json', authorization: await jwt() };
        const res = await post(env.t, '/graphql', JSON.stringify({ query: '{ me signedOnly }' }), headers);
        // Only the marked field is judged: `me` is the JWT's to read.
        const result = res.body as {
          data?: Record<string, unknown> | null;
          errors?: { path?: unknown[]; extensions?: { code?: unknown; status?: unknown } }[];
        };
        if (result.data?.signedOnly != null) return { ...res, body: { code: 'DATA_RETURNED' } };
        const error = result.errors?.find((e) => e.path?.[0] === 'signedOnly');
        return {
          ...res,
          status: Number(error?.extensions?.status),
          body: { code: String(error?.extensions?.code) },
        };
      },
    },
    {
      name: 'graphql/upgrade-header-escapes-refusal-memo',
      attack:
        'an ordinary POST claims `Upgrade: websocket` so that 50 aliased @Roles refusals are each logged, audited and counted',
      request:
        'POST /graphql {"query":"{ a0: adminSecret … a49: adminSecret }"} with a reader JWT and Upgrade: websocket',
      expect: { status: 403, code: 'ROLE_REQUIRED' },
      run: async (env) => {
        const headers = {
          'content-type': 'application/json',
          upgrade: 'websocket',
          authorization: await jwt(),
        };
        const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: adminSecret`).join(' ');
        const before = env.t.logs.failures().length;
        const res = await refusal(env, () =>
          post(env.t, '/graphql', JSON.stringify({ query: `{ ${aliases} }` }), headers),
        );
        const logged = env.t.logs.failures().length - before;
        // One request, one reason: one log line (the memo must not be escaped by a header).
        return logged === 1 ? res : { ...res, body: { code: `LOGGED_${logged}_TIMES` } };
      },
    },
    {
      name: 'graphql/reader-asks-admin-query',
      attack: 'a reader key asks for a query with @Roles("admin")',
      request: 'POST /graphql {"query":"{ adminSecret }"} with a reader JWT',
      expect: { status: 403, code: 'ROLE_REQUIRED' },
      run: async (env) => {
        const headers = { 'content-type': 'application/json', authorization: await jwt() };
        return refusal(env, () =>
          post(env.t, '/graphql', JSON.stringify({ query: '{ adminSecret }' }), headers),
        );
      },
    },
  ],
});
