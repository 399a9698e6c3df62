import {
  CertificateRegistry,
  encodeForwardedCertificate,
  IssuedCertificate,
  KeypairAuthModuleOptions,
} from '../../src';
import { createAuthHeader, createDpopProof, createTokenClient, signRequest } from '../../src/client';
import { createTestPki, send, SendOptions, TestPki } from '../support/certificates';
import {
  createGraphqlWaysApp,
  GRAPHQL_DRIVERS,
  GraphqlDriverName,
  GraphqlWaysApp,
} from '../support/graphql-ways-app';
import { testKey } from '../support/keys';
import { serverKeys } from '../tokens/token-test-support';

/**
 * Every way in authenticates a GraphQL query and a mutation, on Apollo (Express) and
 * Mercurius (Fastify), with the guard global (APP_GUARD) as in the demo. The GraphQL
 * document is the POST body to /graphql: an HTTP signature covers it through its digest,
 * a DPoP proof names POST and the /graphql URL. Each way in also has one refusal, which
 * must come back as a GraphQL error carrying the same stable code REST answers with,
 * with no data.
 */
const TRUSTED_PROXY = '127.0.0.1';
const QUERY = { query: '{ whoami { username keyId method roles } }' };
const MUTATION = {
  query: 'mutation Echo($text: String!) { echo(text: $text) { text username method } }',
  variables: { text: 'hello from the client' },
};
const JSON_TYPE = { 'content-type': 'application/json' };

interface GraphqlAnswer {
  status: number;
  data?: Record<string, Record<string, unknown> | null> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

let pki: TestPki;
const certs: Record<string, IssuedCertificate> = {};

beforeAll(async () => {
  pki = await createTestPki();
  certs.alice = await pki.issue('alice');
  certs.other = await pki.issueFromOtherCa('alice');
}, 30_000);
afterAll(() => pki?.cleanup());

/** One POST /graphql on a fresh connection; `body` is sent byte for byte. */
async function post(
  url: string,
  body: string,
  headers: Record<string, string> | string[],
  extra: SendOptions = {},
) {
  const res = await send(url, { method: 'POST', body, headers, localAddress: TRUSTED_PROXY, ...extra });
  return { ...(res.body as Omit<GraphqlAnswer, 'status'>), status: res.status } as GraphqlAnswer;
}

/**
 * The HTTP status of a refused operation. Mercurius answers with the refusal's status
 * (`statusCode`). Apollo would too (`extensions.http.status`), but @nestjs/apollo 13 resets
 * it to 200 once execution ran (`preserveHttpStatusForExecutionErrors`, on by default):
 * the stable code and status are then only in `extensions`.
 */
const httpStatusOfRefusal = (driver: GraphqlDriverName, status: number) =>
  driver === 'apollo' ? 200 : status;

/**
 * A refusal: one error whose extensions carry the stable code and the status REST answers
 * with, and nothing else (Apollo keeps `http` for itself, Mercurius passes it on); no
 * data: the resolver never ran.
 */
function expectRefused(driver: GraphqlDriverName, res: GraphqlAnswer, code: string, status = 401): void {
  const extensions = res.errors?.[0]?.extensions ?? {};
  expect({
    status: res.status,
    data: res.data ?? null,
    errors: res.errors?.length,
    code: extensions.code,
    codeStatus: extensions.status,
    extensions: Object.keys(extensions).filter((key) => key !== 'http'),
  }).toEqual({
    status: httpStatusOfRefusal(driver, status),
    data: null,
    errors: 1,
    code,
    codeStatus: status,
    extensions: ['code', 'status'],
  });
}

const nginxHeaders = (cert: IssuedCertificate): string[] => [
  ...encodeForwardedCertificate('nginx', cert.certificate),
  'X-SSL-Client-Verify',
  'SUCCESS',
];

describe.each(GRAPHQL_DRIVERS)('every way in authenticates GraphQL operations (%s)', (driver) => {
  let t: GraphqlWaysApp;
  const ed = testKey('ed25519', 0);
  const p256 = testKey('p256', 0);
  const rsa = testKey('rsa', 0);
  const other = testKey('ed25519', 1);
  const server = serverKeys();
  const gql = () => `${t.server}/graphql`;

  beforeAll(async () => {
    const options: KeypairAuthModuleOptions = {
      responseSigning: { keys: server.keys },
      tokens: {},
      clientCertificate: { format: 'nginx', trustedProxies: [TRUSTED_PROXY], caBundle: pki.caBundlePath },
    };
    t = await createGraphqlWaysApp({ driver, options });
    const alice = await t.addUser('alice', ['reader', 'writer']);
    await t.registry.register(alice, ed.publicPem, { keyId: 'alice-ed' });
    await t.registry.register(alice, p256.publicPem, { keyId: 'alice-p256' });
    await t.registry.register(alice, rsa.publicPem, { keyId: 'alice-rsa', roles: ['reader'] });
    await t.app.get(CertificateRegistry).register(alice, certs.alice.certPem);
  }, 30_000);
  afterAll(() => t?.close());

  type Credentials = (url: string, body: string) => Promise<Record<string, string> | string[]>;

  /** Both operations with fresh credentials each; each must answer 200 with data by `method`. */
  const expectBoth = async (
    credentials: Credentials,
    expected: { method: string; keyId: string; roles: string[] },
  ) => {
    const queryBody = JSON.stringify(QUERY);
    const query = await post(gql(), queryBody, await credentials(gql(), queryBody));
    expect([query.status, query.errors, query.data]).toEqual([
      200,
      undefined,
      { whoami: { username: 'alice', ...expected } },
    ]);
    const mutationBody = JSON.stringify(MUTATION);
    const mutation = await post(gql(), mutationBody, await credentials(gql(), mutationBody));
    expect([mutation.status, mutation.errors, mutation.data]).toEqual([
      200,
      undefined,
      { echo: { text: MUTATION.variables.text, username: 'alice', method: expected.method } },
    ]);
  };

  /**
   * The same flawed request, built for /graphql and for the REST twin POST /rest/echo:
   * GraphQL refuses it with the code and status REST answers with, and no data.
   */
  const expectRefusedLikeRest = async (
    flawed: (url: string) => Promise<{ body: string; headers: Record<string, string> | string[] }>,
    code: string,
    status = 401,
  ) => {
    const viaGraphql = await flawed(gql());
    const answer = await post(gql(), viaGraphql.body, viaGraphql.headers);
    expectRefused(driver, answer, code, status);
    const rest = `${t.server}/rest/echo`;
    const viaRest = await flawed(rest);
    const res = await send(rest, { method: 'POST', localAddress: TRUSTED_PROXY, ...viaRest });
    // The same code, and the same client-safe message: no more is said over GraphQL.
    expect([res.status, res.body.code, res.body.message]).toEqual([status, code, answer.errors?.[0].message]);
  };

  describe('asymmetric client JWT', () => {
    const jwt = (privateKey = ed.privateKey) =>
      createAuthHeader({ username: 'alice', privateKey, keyId: 'alice-ed' });

    it('Authorization: JWT authenticates a query and a mutation', async () => {
      await expectBoth(async () => ({ ...JSON_TYPE, authorization: await jwt() }), {
        method: 'jwt',
        keyId: 'alice-ed',
        roles: ['reader', 'writer'],
      });
    });

    it('Authorization: Bearer <client JWT> authenticates a query and a mutation', async () => {
      const bearer = async () => ({ ...JSON_TYPE, authorization: (await jwt()).replace(/^JWT /, 'Bearer ') });
      await expectBoth(bearer, { method: 'jwt', keyId: 'alice-ed', roles: ['reader', 'writer'] });
    });

    it('a JWT signed by another key is KEY_UNKNOWN_OR_SIGNATURE_INVALID as over REST, no data', async () => {
      await expectRefusedLikeRest(
        async () => ({
          body: JSON.stringify(MUTATION),
          headers: { ...JSON_TYPE, authorization: await jwt(other.privateKey) },
        }),
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
      );
    });
  });

  describe('RFC 9421 with Content-Digest over the GraphQL document', () => {
    const signed = (url: string, body: string) =>
      signRequest(
        { method: 'POST', url, headers: JSON_TYPE, body },
        { keyId: 'alice-p256', privateKey: p256.privateKey },
      ).headers;

    it('a signed POST /graphql authenticates a query and a mutation', async () => {
      await expectBoth(
        async (url, body) => {
          const headers = signed(url, body);
          expect(headers['signature-input']).toMatch(
            /^sig1=\("@method" "@authority" "@path" "content-digest" "content-type"\)/,
          );
          return headers;
        },
        { method: 'http-signature-rfc9421', keyId: 'alice-p256', roles: ['reader', 'writer'] },
      );
    });

    it('a signature over @target-uri (the full /graphql URL) authenticates a query and a mutation', async () => {
      await expectBoth(
        async (url, body) =>
          signRequest(
            { method: 'POST', url, headers: JSON_TYPE, body },
            {
              keyId: 'alice-p256',
              privateKey: p256.privateKey,
              components: ['@method', '@target-uri', 'content-digest', 'content-type'],
            },
          ).headers,
        { method: 'http-signature-rfc9421', keyId: 'alice-p256', roles: ['reader', 'writer'] },
      );
    });

    it('another GraphQL document under the signed Content-Digest is DIGEST_MISMATCH as over REST, no data', async () => {
      await expectRefusedLikeRest(
        async (url) => ({
          body: JSON.stringify({ ...MUTATION, variables: { text: 'tampered' } }),
          headers: signed(url, JSON.stringify(MUTATION)),
        }),
        'DIGEST_MISMATCH',
      );
    });

    it('another GraphQL document with its own Content-Digest breaks the signature, no data', async () => {
      const tampered = JSON.stringify({ ...MUTATION, variables: { text: 'tampered' } });
      await expectRefusedLikeRest(
        async (url) => ({
          body: tampered,
          headers: {
            ...signed(url, JSON.stringify(MUTATION)),
            'content-digest': signed(url, tampered)['content-digest'],
          },
        }),
        'KEY_UNKNOWN_OR_SIGNATURE_INVALID',
      );
    });
    it('a signature that leaves the GraphQL document out (content-digest not covered) is DIGEST_REQUIRED as over REST', async () => {
      await expectRefusedLikeRest(
        async (url) => ({
          body: JSON.stringify(MUTATION),
          headers: signRequest(
            { method: 'POST', url, headers: JSON_TYPE, body: JSON.stringify(MUTATION) },
            {
              keyId: 'alice-p256',
              privateKey: p256.privateKey,
              components: ['@method', '@authority', '@path', 'content-type'],
            },
          ).headers,
        }),
        'DIGEST_REQUIRED',
      );
    });
  });

  describe('Cavage draft-12 with Digest over the GraphQL document', () => {
    const signed = (url: string, body: string) =>
      signRequest(
        { method: 'POST', url, headers: JSON_TYPE, body },
        { keyId: 'alice-rsa', privateKey: rsa.privateKey, format: 'cavage' },
      ).headers;

    it('a signed POST /graphql authenticates a query and a mutation', async () => {
      await expectBoth(
        async (url, body) => {
          const headers = signed(url, body);
          expect(headers.signature).toContain('headers="(request-target) host date digest"');
          return headers;
        },
        { method: 'http-signature-cavage', keyId: 'alice-rsa', roles: ['reader'] },
      );
    });

    it('another GraphQL document under the signed Digest is DIGEST_MISMATCH as over REST, no data', async () => {
      await expectRefusedLikeRest(
        async (url) => ({
          body: JSON.stringify({ ...MUTATION, variables: { text: 'tampered' } }),
          headers: signed(url, JSON.stringify(MUTATION)),
        }),
        'DIGEST_MISMATCH',
      );
    });
  });

  describe('access token from the token endpoint, DPoP-bound', () => {
    const client = () =>
      createTokenClient({ baseUrl: t.server, keyId: 'alice-ed', privateKey: ed.privateKey, dpop: true });

    it('a fresh DPoP proof for POST /graphql authenticates a query and a mutation', async () => {
      const tokens = client();
      await expectBoth(
        async (url) => {
          const headers = await tokens.headersFor('POST', url);
          expect(headers.authorization).toMatch(/^DPoP /);
          return { ...JSON_TYPE, ...headers };
        },
        { method: 'access-token', keyId: 'alice-ed', roles: ['reader', 'writer'] },
      );
      // The same through the client's own fetch, as docs/graphql.md ("Ways in") shows it.
      const viaFetch = await tokens.fetch(gql(), {
        method: 'POST',
        headers: JSON_TYPE,
        body: JSON.stringify(MUTATION),
      });
      expect([viaFetch.status, await viaFetch.json()]).toEqual([
        200,
        { data: { echo: { text: MUTATION.variables.text, username: 'alice', method: 'access-token' } } },
      ]);
    });

    it('a proof for another URL is DPOP_PROOF_INVALID as over REST, no data', async () => {
      const tokens = client();
      await expectRefusedLikeRest(async (url) => {
        const { authorization } = await tokens.headersFor('POST', url);
        const dpop = await createDpopProof({
          privateKey: ed.privateKey,
          method: 'POST',
          url: `${t.server}/auth/token`,
          accessToken: authorization.replace(/^DPoP /, ''),
        });
        return { body: JSON.stringify(QUERY), headers: { ...JSON_TYPE, authorization, dpop } };
      }, 'DPOP_PROOF_INVALID');
    });

    it('a proof for GET, or none for the bound token, is refused as over REST, no data', async () => {
      const tokens = client();
      await expectRefusedLikeRest(async (url) => {
        const { authorization } = await tokens.headersFor('POST', url);
        const dpop = await createDpopProof({
          privateKey: ed.privateKey,
          method: 'GET',
          url,
          accessToken: authorization.replace(/^DPoP /, ''),
        });
        return { body: JSON.stringify(QUERY), headers: { ...JSON_TYPE, authorization, dpop } };
      }, 'DPOP_PROOF_INVALID');
      await expectRefusedLikeRest(async (url) => {
        const { authorization } = await tokens.headersFor('POST', url);
        return { body: JSON.stringify(QUERY), headers: { ...JSON_TYPE, authorization } };
      }, 'DPOP_PROOF_REQUIRED');
    });

    it('a replayed proof is REPLAYED as over REST, no data', async () => {
      const tokens = client();
      await expectRefusedLikeRest(async (url) => {
        const headers = { ...JSON_TYPE, ...(await tokens.headersFor('POST', url)) };
        const first = await send(url, { method: 'POST', headers, body: JSON.stringify(QUERY) });
        expect(first.status).toBe(200);
        return { body: JSON.stringify(QUERY), headers };
      }, 'REPLAYED');
    });
  });

  describe('client certificate forwarded by a trusted proxy', () => {
    const headers = (cert: IssuedCertificate) => [...nginxHeaders(cert), 'content-type', 'application/json'];

    it('authenticates a query and a mutation', async () => {
      await expectBoth(async () => headers(certs.alice), {
        method: 'client-certificate',
        keyId: certs.alice.fingerprints.sha256Hex,
        roles: ['reader', 'writer'],
      });
    });

    it('a certificate of another CA is CERT_UNTRUSTED as over REST, no data', async () => {
      await expectRefusedLikeRest(
        async () => ({ body: JSON.stringify(MUTATION), headers: headers(certs.other) }),
        'CERT_UNTRUSTED',
      );
    });
  });
});

describe.each(GRAPHQL_DRIVERS)('native mutual TLS authenticates GraphQL operations (%s)', (driver) => {
  let t: GraphqlWaysApp;
  const tls = (client: IssuedCertificate) => ({ client, ca: pki.ca.rootPem, localAddress: undefined });

  beforeAll(async () => {
    t = await createGraphqlWaysApp({
      driver,
      httpsOptions: {
        key: pki.server.keyPem,
        cert: pki.server.certPem + pki.server.chainPem,
        ca: pki.ca.caBundlePem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      options: { clientCertificate: { source: 'tls', mapping: [{ by: 'fingerprint' }] } },
    });
    const alice = await t.addUser('alice', ['reader']);
    await t.app.get(CertificateRegistry).register(alice, certs.alice.certPem);
  }, 30_000);
  afterAll(() => t?.close());

  it('the TLS client certificate authenticates a query and a mutation', async () => {
    const query = await post(`${t.server}/graphql`, JSON.stringify(QUERY), JSON_TYPE, tls(certs.alice));
    expect([query.status, query.data]).toEqual([
      200,
      {
        whoami: {
          username: 'alice',
          keyId: certs.alice.fingerprints.sha256Hex,
          method: 'client-certificate',
          roles: ['reader'],
        },
      },
    ]);
    const mutation = await post(`${t.server}/graphql`, JSON.stringify(MUTATION), JSON_TYPE, tls(certs.alice));
    expect([mutation.status, mutation.data]).toEqual([
      200,
      { echo: { text: MUTATION.variables.text, username: 'alice', method: 'client-certificate' } },
    ]);
  });

  it('a TLS certificate of another CA is CERT_UNTRUSTED, no data', async () => {
    expectRefused(
      driver,
      await post(`${t.server}/graphql`, JSON.stringify(MUTATION), JSON_TYPE, tls(certs.other)),
      'CERT_UNTRUSTED',
    );
  });
});

describe('Apollo with preserveHttpStatusForExecutionErrors: false', () => {
  let t: GraphqlWaysApp;
  const key = testKey('ed25519', 0);
  const other = testKey('ed25519', 1);

  beforeAll(async () => {
    t = await createGraphqlWaysApp({
      driver: 'apollo',
      apollo: { preserveHttpStatusForExecutionErrors: false },
    });
    const alice = await t.addUser('alice', ['reader']);
    await t.registry.register(alice, key.publicPem, { keyId: 'alice-ed' });
  }, 30_000);
  afterAll(() => t?.close());

  it('answers a refused operation with the refusal status (401), an accepted one with 200', async () => {
    const jwt = (privateKey = key.privateKey) =>
      createAuthHeader({ username: 'alice', privateKey, keyId: 'alice-ed' });
    const refused = await post(`${t.server}/graphql`, JSON.stringify(QUERY), {
      ...JSON_TYPE,
      authorization: await jwt(other.privateKey),
    });
    expect([refused.status, refused.data, refused.errors?.[0].extensions]).toEqual([
      401,
      null,
      { code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID', status: 401 },
    ]);
    const accepted = await post(`${t.server}/graphql`, JSON.stringify(QUERY), {
      ...JSON_TYPE,
      authorization: await jwt(),
    });
    expect([accepted.status, accepted.data?.whoami?.method]).toEqual([200, 'jwt']);
  });
});
