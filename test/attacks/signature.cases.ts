import { createHmac, sign } from 'node:crypto';
import { seedClaims } from '../support/tokens';
import type { SignRequestOptions } from '../../src/client';
import { algorithmKey } from './algorithm-keys';
import type { AttackCase } from './attack-harness';
import type { AttackEnv } from './attack-env';

type Case = AttackCase<AttackEnv>;
type SignOptions = Partial<SignRequestOptions> & { keyId?: string };

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A GET signed by alice's Ed25519 key (RFC 9421 unless `format: 'cavage'`), then sent as given. */
function signedGet(
  env: AttackEnv,
  options: SignOptions = {},
  path = '/probe/whoami',
  signHeaders?: Record<string, string>,
) {
  const key = options.format === 'cavage' ? env.keys.rsa : env.keys.ed;
  const keyId = options.keyId ?? (options.format === 'cavage' ? 'alice-rsa' : 'alice-ed');
  return env.signed('GET', path, key, { ...options, keyId }, { headers: signHeaders });
}

/** A POST of `body` to /probe/echo signed by alice's key. */
function signedPost(
  env: AttackEnv,
  body: string,
  options: SignOptions = {},
  signHeaders?: Record<string, string>,
) {
  const key = options.format === 'cavage' ? env.keys.rsa : env.keys.ed;
  const keyId = options.keyId ?? (options.format === 'cavage' ? 'alice-rsa' : 'alice-ed');
  return env.signed('POST', '/probe/echo', key, { ...options, keyId }, { headers: signHeaders, body });
}

const get = (env: AttackEnv, headers: Record<string, string> | string[], path = '/probe/whoami') =>
  env.send(path, { headers });
const post = (
  env: AttackEnv,
  headers: Record<string, string> | string[],
  body: string,
  path = '/probe/echo',
) => env.send(path, { method: 'POST', headers, body });

/** Headers as a flat list, with `extra` lines appended (duplicates stay duplicates). */
const lines = (headers: Record<string, string>, ...extra: string[]) => [
  ...Object.entries(headers).flat(),
  ...extra,
];

/**
 * A GET of /probe/whoami?<query> signed by alice (RFC 9421 over ("@method" "@authority" "@path"
 * "@query" "date") without created, or Cavage over (request-target) host date) with this Date.
 */
function signedWithDate(env: AttackEnv, format: 'rfc9421' | 'cavage', date: string, query: string) {
  const path = `/probe/whoami?${query}`;
  if (format === 'cavage') return signedGet(env, { format }, path, { date });
  const headers = signedGet(env, { components: ['@method', '@authority', '@path', '@query', 'date'] }, path, {
    date,
  });
  // The client always sends created; without it the server reads the covered Date.
  const input = headers['signature-input'].replace(/;created=\d+/, '');
  const params = input.slice('sig1='.length);
  const base = [
    `"@method": GET`,
    `"@authority": 127.0.0.1:${env.port}`,
    `"@path": /probe/whoami`,
    `"@query": ?${query}`,
    `"date": ${date}`,
    `"@signature-params": ${params}`,
  ].join('\n');
  const signature = sign(null, Buffer.from(base), env.keys.ed.privateKey).toString('base64');
  return { ...headers, 'signature-input': input, signature: `sig1=:${signature}:` };
}

/** The IMF-fixdate of now with its seconds set to 60, which Date.parse reads as another time. */
function secondSixtyDate(): string {
  return new Date().toUTCString().replace(/:\d{2} GMT$/, ':60 GMT');
}

/** A Cavage GET under this keyId claiming rsa-sha256 and covering (created), which that algorithm forbids. */
function cavageCreatedWithRsaSha256(env: AttackEnv, keyId: string) {
  const headers = signedGet(env, {
    format: 'cavage',
    keyId,
    components: ['(request-target)', 'host', 'date'],
  });
  const signature = headers.signature
    .replace('hs2019', 'rsa-sha256')
    .replace('"(request-target) host date"', '"(request-target) host date (created)"');
  return { ...headers, signature: `${signature},created=${nowSeconds()}` };
}

/** A Cavage GET covering x-tenant, sent without it, under this keyId. */
function cavageMissingHeader(env: AttackEnv, keyId: string) {
  const headers = signedGet(
    env,
    { format: 'cavage', keyId, components: ['(request-target)', 'host', 'date', 'x-tenant'] },
    '/probe/whoami',
    { 'x-tenant': 'a' },
  );
  delete headers['x-tenant'];
  return headers;
}

export const RFC9421_CASES: Case[] = [
  {
    name: 'rfc9421/replay-nonce',
    attack: 'replay a signed request (with its nonce) inside the window',
    request: 'GET /probe/whoami with the Signature-Input/Signature of a request already accepted',
    expect: { status: 401, code: 'REPLAYED' },
    run: async (env) => {
      const headers = signedGet(env);
      const first = await get(env, headers);
      if (first.status !== 200) throw new Error(`priming request failed: ${first.status} ${first.body.code}`);
      return get(env, headers);
    },
  },
  {
    name: 'rfc9421/replay-without-nonce',
    attack: 'replay a signature that carries no nonce: the signed content is single-use',
    request: 'the same nonce-less signed GET twice',
    expect: { status: 401, code: 'REPLAYED' },
    run: async (env) => {
      const headers = signedGet(env, { nonce: false }, '/probe/whoami?nononce=1');
      const first = await get(env, headers, '/probe/whoami?nononce=1');
      if (first.status !== 200) throw new Error(`priming request failed: ${first.status} ${first.body.code}`);
      return get(env, headers, '/probe/whoami?nononce=1');
    },
  },
  {
    name: 'rfc9421/clock-skew-past',
    attack: 'created 400 s ago (window 300 s + 20 s skew)',
    request: 'Signature-Input ...;created=now-400',
    expect: { status: 401, code: 'TOKEN_EXPIRED' },
    run: (env) => get(env, signedGet(env, { created: nowSeconds() - 400 })),
  },
  {
    name: 'rfc9421/clock-skew-future',
    attack: 'created 120 s in the future',
    request: 'Signature-Input ...;created=now+120',
    expect: { status: 401, code: 'TOKEN_NOT_YET_VALID' },
    run: (env) => get(env, signedGet(env, { created: nowSeconds() + 120 })),
  },
  {
    name: 'rfc9421/expires-passed',
    attack: 'a signature whose own expires has passed',
    request: 'Signature-Input ...;created=now-100;expires=now-70',
    expect: { status: 401, code: 'TOKEN_EXPIRED' },
    run: (env) => get(env, signedGet(env, { created: nowSeconds() - 100, expiresIn: 30 })),
  },
  {
    name: 'rfc9421/alg-differs-from-key',
    attack: "alg stated as ecdsa-p256-sha256 for alice's Ed25519 key",
    request: 'Signature-Input ...;alg="ecdsa-p256-sha256";keyid="alice-ed"',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => {
      const headers = signedGet(env, { includeAlg: true, algorithm: 'ed25519' });
      headers['signature-input'] = headers['signature-input'].replace(
        'alg="ed25519"',
        'alg="ecdsa-p256-sha256"',
      );
      return get(env, headers);
    },
  },
  {
    name: 'rfc9421/alg-none',
    attack: 'alg="none" in the signature parameters',
    request: 'Signature-Input ...;alg="none"',
    expect: { status: 401, code: 'ALGORITHM_NOT_ALLOWED' },
    run: (env) => {
      const headers = signedGet(env, { includeAlg: true, algorithm: 'ed25519' });
      headers['signature-input'] = headers['signature-input'].replace('alg="ed25519"', 'alg="none"');
      return get(env, headers);
    },
  },
  {
    name: 'rfc9421/hmac-keyed-with-public-key',
    attack: "hmac-sha256 with alice's public key PEM as the secret",
    request: 'Signature-Input ...;keyid="alice-ed";alg="hmac-sha256", HMAC(publicPem)',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => {
      const created = nowSeconds();
      const params = `("@method" "@authority" "@path");created=${created};keyid="alice-ed";alg="hmac-sha256"`;
      const base = `"@method": GET\n"@authority": 127.0.0.1:${env.port}\n"@path": /probe/whoami\n"@signature-params": ${params}`;
      const signature = createHmac('sha256', env.keys.ed.publicPem).update(base).digest('base64');
      return get(env, { 'signature-input': `sig1=${params}`, signature: `sig1=:${signature}:` });
    },
  },
  {
    name: 'rfc9421/keyid-path-traversal',
    attack: 'a keyid that walks the file system',
    request: 'Signature-Input ...;keyid="../../../../etc/passwd"',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => get(env, signedGet(env, { keyId: '../../../../etc/passwd' })),
  },
  {
    name: 'rfc9421/keyid-sql-injection',
    attack: 'a keyid with SQL metacharacters',
    request: `Signature-Input ...;keyid="x' UNION SELECT * FROM keypair_auth_public_keys --"`,
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => get(env, signedGet(env, { keyId: "x' UNION SELECT * FROM keypair_auth_public_keys --" })),
  },
  {
    name: 'rfc9421/keyid-ldap-injection',
    attack: 'a keyid with LDAP filter metacharacters',
    request: 'Signature-Input ...;keyid="alice-ed)(|(objectClass=*"',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => get(env, signedGet(env, { keyId: 'alice-ed)(|(objectClass=*' })),
  },
  {
    name: 'rfc9421/keyid-10kb',
    attack: 'a keyid of 10 KB',
    request: 'Signature-Input ...;keyid="A"×10240',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => get(env, signedGet(env, { keyId: 'A'.repeat(10_240) })),
  },
  {
    name: 'rfc9421/no-components',
    attack: 'a signature that covers no component at all',
    request: 'Signature-Input sig1=();created;keyid',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) => get(env, signedGet(env, { components: [] })),
  },
  {
    name: 'rfc9421/missing-method',
    attack: 'a signature without @method, to turn a GET into a DELETE',
    request: 'Signature-Input sig1=("@authority" "@path")',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) => get(env, signedGet(env, { components: ['@authority', '@path'] })),
  },
  {
    name: 'rfc9421/missing-path',
    attack: 'a signature without @path, to reuse it on any route',
    request: 'Signature-Input sig1=("@method" "@authority")',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) => get(env, signedGet(env, { components: ['@method', '@authority'] })),
  },
  {
    name: 'rfc9421/missing-authority',
    attack: 'a signature without @authority, to reuse it on another host',
    request: 'Signature-Input sig1=("@method" "@path")',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) => get(env, signedGet(env, { components: ['@method', '@path'] })),
  },
  {
    name: 'rfc9421/query-not-covered',
    attack: 'a query string the signature does not cover (appended by an attacker)',
    request: 'GET /probe/whoami?admin=1 signed over ("@method" "@authority" "@path")',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) =>
      get(
        env,
        signedGet(env, { components: ['@method', '@authority', '@path'] }, '/probe/whoami?admin=1'),
        '/probe/whoami?admin=1',
      ),
  },
  {
    name: 'rfc9421/query-reordered',
    attack: 'the signed query with its parameters reordered',
    request: 'signed for ?a=1&b=2, sent to ?b=2&a=1',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => get(env, signedGet(env, {}, '/probe/whoami?a=1&b=2'), '/probe/whoami?b=2&a=1'),
  },
  {
    name: 'rfc9421/query-stripped',
    attack: 'the signed query removed from the request',
    request: 'signed for ?limit=1 (with @query), sent without a query',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => get(env, signedGet(env, {}, '/probe/whoami?limit=1'), '/probe/whoami'),
  },
  {
    name: 'rfc9421/host-differs-from-authority',
    attack: 'a request signed for one authority, sent with another Host',
    request: 'Host: evil.example, signature over @authority 127.0.0.1:port',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => get(env, { ...signedGet(env), host: 'evil.example' }),
  },
  {
    name: 'rfc9421/duplicate-signature-input',
    attack: 'two Signature-Input lines with the same label, hoping one is checked and the other used',
    request: 'Signature-Input: sig1=... (twice)',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => {
      const headers = signedGet(env);
      return get(env, lines(headers, 'Signature-Input', headers['signature-input']));
    },
  },
  {
    name: 'rfc9421/duplicate-content-digest',
    attack: 'a second Content-Digest line for another body: the covered field is then both lines combined',
    request: 'POST with the signed Content-Digest and a second one appended',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => {
      const body = '{"amount":1}';
      const headers = signedPost(env, body);
      return post(
        env,
        lines(headers, 'Content-Digest', 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:'),
        body,
      );
    },
  },
  {
    name: 'rfc9421/two-signatures-no-selector',
    attack: 'two signatures (one for another purpose) with no label configured: which one counts?',
    request: 'Signature-Input sig1=..., sig2=...; Signature sig1=..., sig2=...',
    expect: { status: 401, code: 'SIGNATURE_NOT_FOUND' },
    run: (env) => {
      const a = signedGet(env, { label: 'sig1' });
      const b = signedGet(env, { label: 'sig2', keyId: 'bob-1' });
      return get(env, {
        'signature-input': `${a['signature-input']}, ${b['signature-input']}`,
        signature: `${a.signature}, ${b.signature}`,
      });
    },
  },
  {
    name: 'rfc9421/body-swapped',
    attack: 'a signed request whose body is replaced, the signed Content-Digest kept',
    request: 'POST /probe/echo {"amount":999}, signature and digest of {"amount":1}',
    expect: { status: 401, code: 'DIGEST_MISMATCH' },
    run: (env) => post(env, signedPost(env, '{"amount":1}'), '{"amount":999}'),
  },
  {
    name: 'rfc9421/digest-unsupported-algorithm',
    attack: 'a signed Content-Digest in md5, which can be collided',
    request: 'Content-Digest: md5=:...: (covered)',
    expect: { status: 401, code: 'DIGEST_ALGORITHM_UNSUPPORTED' },
    run: (env) => {
      const body = '{"amount":1}';
      const headers = env.signed(
        'POST',
        '/probe/echo',
        env.keys.ed,
        { keyId: 'alice-ed', components: ['@method', '@authority', '@path', 'content-digest'] },
        {
          headers: { 'content-type': 'application/json', 'content-digest': 'md5=:HpTu7f3RYf0zR1Gd9Gcy8Q==:' },
        },
      );
      return post(env, headers, body);
    },
  },
  {
    name: 'rfc9421/body-without-digest',
    attack: 'a body the signature does not cover',
    request: 'POST with a body, signature over ("@method" "@authority" "@path") only',
    expect: { status: 401, code: 'DIGEST_REQUIRED' },
    run: (env) =>
      post(env, signedPost(env, '{"a":1}', { components: ['@method', '@authority', '@path'] }), '{"a":1}'),
  },
  {
    name: 'rfc9421/body-too-large',
    attack: 'a signed body larger than the server checks (2 KB here), to spend its CPU',
    request: 'POST /probe/echo with a 3 KB signed body',
    expect: { status: 413, code: 'BODY_TOO_LARGE' },
    run: (env) => {
      const body = JSON.stringify({ pad: 'x'.repeat(3000) });
      return post(env, signedPost(env, body), body);
    },
  },
  {
    name: 'rfc9421/covered-header-absent',
    attack: 'a signature over a header that the request then leaves out',
    request: 'covers "x-tenant", sent without it',
    expect: { status: 401, code: 'SIGNATURE_COMPONENT_INVALID' },
    run: (env) => {
      const headers = signedGet(
        env,
        { components: ['@method', '@authority', '@path', 'x-tenant'] },
        '/probe/whoami',
        {
          'x-tenant': 'a',
        },
      );
      delete headers['x-tenant'];
      return get(env, headers);
    },
  },
  {
    name: 'rfc9421/malformed-structured-field',
    attack: 'a Signature-Input that is not an RFC 8941 dictionary',
    request: 'Signature-Input: sig1=("@method" ;;created=1',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => get(env, { ...signedGet(env), 'signature-input': 'sig1=("@method" ;;created=1' }),
  },
  {
    name: 'rfc9421/malformed-base64',
    attack: 'a Signature byte sequence that is not base64',
    request: 'Signature: sig1=:not*base64:',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => get(env, { ...signedGet(env), signature: 'sig1=:not*base64:' }),
  },
  {
    name: 'rfc9421/oversized-signature',
    attack: 'a 20 KB Signature header, to make the parser work',
    request: 'Signature: sig1=:AAAA…(20 KB):',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => get(env, { ...signedGet(env), signature: `sig1=:${'A'.repeat(20_000)}:` }),
  },
  {
    name: 'rfc9421/label-mismatch',
    attack: 'Signature-Input and Signature under different labels',
    request: 'Signature-Input: sig1=..., Signature: sig2=...',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => {
      const headers = signedGet(env);
      return get(env, { ...headers, signature: headers.signature.replace(/^sig1=/, 'sig2=') });
    },
  },
  {
    name: 'rfc9421/unknown-key',
    attack: 'a well-formed signature by a key nobody registered',
    request: 'Signature-Input ...;keyid="nobody"',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => get(env, env.signed('GET', '/probe/whoami', env.keys.stranger, { keyId: 'nobody' })),
  },
  {
    name: 'rfc9421/revoked-key',
    attack: 'a correct signature by a revoked key',
    request: 'Signature-Input ...;keyid="carol-1"',
    expect: { status: 401, code: 'KEY_REVOKED' },
    run: (env) => get(env, env.signed('GET', '/probe/whoami', env.keys.carol, { keyId: 'carol-1' })),
  },
  {
    name: 'rfc9421/route-requires-nonce',
    attack: 'no nonce on a route that requires one (@RequireSignature)',
    request: 'POST /probe/strict signed without nonce',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) => {
      const body = '{}';
      const headers = env.signed(
        'POST',
        '/probe/strict',
        env.keys.ed,
        { keyId: 'alice-ed', nonce: false },
        { body },
      );
      return post(env, headers, body, '/probe/strict');
    },
  },
  {
    name: 'rfc9421/require-signature-with-jwt',
    attack: 'a JWT on a route whose @RequireSignature() asks for a signed body',
    request: 'POST /probe/strict, Authorization: JWT <valid token of alice>, body unsigned',
    expect: { status: 401, code: 'SIGNATURE_REQUIRED' },
    run: async (env) =>
      post(
        env,
        {
          authorization: await env.jwt(env.keys.ed, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice')),
          'content-type': 'application/json',
        },
        '{}',
        '/probe/strict',
      ),
  },
  {
    name: 'rfc9421/require-signature-with-access-token',
    attack: 'an access token on a route whose @RequireSignature() asks for a signed body',
    request: 'POST /probe/strict, Authorization: Bearer <access token of alice>, body unsigned',
    expect: { status: 401, code: 'SIGNATURE_REQUIRED' },
    run: (env) =>
      post(
        env,
        { authorization: `Bearer ${env.tokens.alice.accessToken}`, 'content-type': 'application/json' },
        '{}',
        '/probe/strict',
      ),
  },
  {
    name: 'rfc9421/oracle-covered-header-absent-unknown-key',
    attack: 'learn whether a keyid exists: the answer for a missing covered header must not depend on it',
    request: 'covers "x-tenant", sent without it, keyid="nobody" (same code as for alice-ed)',
    expect: { status: 401, code: 'SIGNATURE_COMPONENT_INVALID' },
    run: (env) => {
      const headers = env.signed(
        'GET',
        '/probe/whoami',
        env.keys.stranger,
        { keyId: 'nobody', components: ['@method', '@authority', '@path', 'x-tenant'] },
        { headers: { 'x-tenant': 'a' } },
      );
      delete headers['x-tenant'];
      return get(env, headers);
    },
  },
  {
    name: 'rfc9421/date-invalid-day',
    attack: 'a Date shaped like IMF-fixdate but with day 00, which parses to NaN: no window, no replay TTL',
    request: 'Date: Sun, 00 Jan 2023 00:00:00 GMT, covered, no created parameter',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) =>
      get(
        env,
        signedWithDate(env, 'rfc9421', 'Sun, 00 Jan 2023 00:00:00 GMT', 'd9421=1'),
        '/probe/whoami?d9421=1',
      ),
  },
];

export const CAVAGE_CASES: Case[] = [
  {
    name: 'cavage/replay',
    attack: 'replay a Cavage request (no nonce in draft-12): the signed content is single-use',
    request: 'the same Signature/Date headers twice',
    expect: { status: 401, code: 'REPLAYED' },
    run: async (env) => {
      const headers = signedGet(env, { format: 'cavage' }, '/probe/whoami?cavage-replay=1');
      const first = await get(env, headers, '/probe/whoami?cavage-replay=1');
      if (first.status !== 200) throw new Error(`priming request failed: ${first.status} ${first.body.code}`);
      return get(env, headers, '/probe/whoami?cavage-replay=1');
    },
  },
  {
    name: 'cavage/clock-skew-past',
    attack: 'a Date 10 minutes old',
    request: 'Date: now-600, signed',
    expect: { status: 401, code: 'TOKEN_EXPIRED' },
    run: (env) => get(env, signedGet(env, { format: 'cavage', created: nowSeconds() - 600 })),
  },
  {
    name: 'cavage/clock-skew-future',
    attack: 'a Date 2 minutes ahead',
    request: 'Date: now+120, signed',
    expect: { status: 401, code: 'TOKEN_NOT_YET_VALID' },
    run: (env) => get(env, signedGet(env, { format: 'cavage', created: nowSeconds() + 120 })),
  },
  {
    name: 'cavage/algorithm-differs-from-key',
    attack: 'algorithm="rsa-sha256" for an Ed25519 key',
    request: 'Signature: keyId="alice-ed",algorithm="rsa-sha256",...',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => {
      const headers = env.signed('GET', '/probe/whoami', env.keys.ed, {
        keyId: 'alice-ed',
        format: 'cavage',
      });
      return get(env, { ...headers, signature: headers.signature.replace('hs2019', 'rsa-sha256') });
    },
  },
  {
    name: 'cavage/ecdsa-sha256-on-p384-key',
    attack: 'algorithm="ecdsa-sha256" for a P-384 key (a name that disagrees with the stored key)',
    request: 'Signature: keyId="alice-p384",algorithm="ecdsa-sha256",... signed by that key',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) => {
      const key = await algorithmKey(env, 'alice-p384');
      const headers = env.signed('GET', '/probe/whoami', key, { keyId: 'alice-p384', format: 'cavage' });
      return get(env, { ...headers, signature: headers.signature.replace('hs2019', 'ecdsa-sha256') });
    },
  },
  {
    name: 'cavage/ed25519-sha512-on-rsa-key',
    attack: 'algorithm="ed25519-sha512" for an RSA key',
    request: 'Signature: keyId="alice-rsa",algorithm="ed25519-sha512",... signed by that key',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => {
      const headers = env.signed('GET', '/probe/whoami', env.keys.rsa, {
        keyId: 'alice-rsa',
        format: 'cavage',
      });
      return get(env, {
        ...headers,
        signature: headers.signature.replace(/algorithm="[^"]*"/, 'algorithm="ed25519-sha512"'),
      });
    },
  },
  {
    name: 'cavage/rsa-sha512-on-pinned-rsa-key',
    attack:
      'algorithm="rsa-sha512", a real SHA-512 signature, for a key registered with rsa-v1_5-sha256 (pinned)',
    request: 'Signature: keyId="alice-rsa-pinned",algorithm="rsa-sha512",...',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) => {
      const key = await algorithmKey(env, 'alice-rsa-pinned');
      const headers = env.signed('GET', '/probe/whoami', key, {
        keyId: 'alice-rsa-pinned',
        format: 'cavage',
        algorithm: 'rsa-v1_5-sha512',
      });
      // The SDK names hs2019; the signature itself is SHA-512, so name it as a legacy signer would.
      if (!headers.signature.includes('algorithm="hs2019"')) throw new Error(headers.signature);
      return get(env, { ...headers, signature: headers.signature.replace('hs2019', 'rsa-sha512') });
    },
  },
  {
    name: 'cavage/algorithm-hmac',
    attack: 'algorithm="hmac-sha256" (keyed with whatever the attacker hopes)',
    request: 'Signature: ...,algorithm="hmac-sha256",...',
    expect: { status: 401, code: 'ALGORITHM_NOT_ALLOWED' },
    run: (env) => {
      const headers = signedGet(env, { format: 'cavage' });
      return get(env, { ...headers, signature: headers.signature.replace('hs2019', 'hmac-sha256') });
    },
  },
  {
    name: 'cavage/missing-request-target',
    attack: 'a signature without (request-target): valid for any method and path',
    request: 'Signature: headers="host date"',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) => get(env, signedGet(env, { format: 'cavage', components: ['host', 'date'] })),
  },
  {
    name: 'cavage/missing-host',
    attack: 'a signature without host: valid on any server that knows the key',
    request: 'Signature: headers="(request-target) date"',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) => get(env, signedGet(env, { format: 'cavage', components: ['(request-target)', 'date'] })),
  },
  {
    name: 'cavage/keyid-path-traversal',
    attack: 'a keyId that walks the file system (or looks like a URL to fetch)',
    request: 'Signature: keyId="../../etc/passwd#main-key",...',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => get(env, signedGet(env, { format: 'cavage', keyId: '../../etc/passwd#main-key' })),
  },
  {
    name: 'cavage/keyid-10kb',
    attack: 'a keyId of 10 KB',
    request: 'Signature: keyId="A"×10240,...',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => get(env, signedGet(env, { format: 'cavage', keyId: 'A'.repeat(10_240) })),
  },
  {
    name: 'cavage/duplicate-parameter',
    attack: 'keyId twice, hoping the verifier and the key lookup read different ones',
    request: 'Signature: keyId="bob-1",keyId="alice-rsa",...',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => {
      const headers = signedGet(env, { format: 'cavage' });
      return get(env, { ...headers, signature: `keyId="bob-1",${headers.signature}` });
    },
  },
  {
    name: 'cavage/duplicate-date',
    attack: 'two Date headers: one signed, one the server might read',
    request: 'Date: <signed>, Date: <another>',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => {
      const headers = signedGet(env, { format: 'cavage' });
      return get(env, lines(headers, 'Date', new Date(Date.now() - 3_600_000).toUTCString()));
    },
  },
  {
    name: 'cavage/body-swapped',
    attack: 'a Cavage POST whose body is replaced, the signed Digest kept',
    request: 'POST {"type":"Delete"} with the Digest and signature of {"type":"Note"}',
    expect: { status: 401, code: 'DIGEST_MISMATCH' },
    run: (env) => post(env, signedPost(env, '{"type":"Note"}', { format: 'cavage' }), '{"type":"Delete"}'),
  },
  {
    name: 'cavage/digest-md5',
    attack: 'a signed Digest in MD5',
    request: 'Digest: MD5=... (covered)',
    expect: { status: 401, code: 'DIGEST_ALGORITHM_UNSUPPORTED' },
    run: (env) => {
      const headers = env.signed(
        'POST',
        '/probe/echo',
        env.keys.rsa,
        { keyId: 'alice-rsa', format: 'cavage', components: ['(request-target)', 'host', 'date', 'digest'] },
        { headers: { 'content-type': 'application/json', digest: 'MD5=HpTu7f3RYf0zR1Gd9Gcy8Q==' } },
      );
      return post(env, headers, '{"type":"Note"}');
    },
  },
  {
    name: 'cavage/unsigned-expires-shortens-replay',
    attack:
      'append an unsigned expires= to a captured Signature header: a 1 s replay claim, replayed after it',
    request: 'Signature: ...,expires=<now-19> (not in headers), sent, then again 1.1 s later',
    expect: { status: 401, code: 'REPLAYED' },
    run: async (env) => {
      const headers = signedGet(env, { format: 'cavage' }, '/probe/whoami?cavage-expires=1');
      const shortened = { ...headers, signature: `${headers.signature},expires=${nowSeconds() - 19}` };
      const first = await get(env, shortened, '/probe/whoami?cavage-expires=1');
      if (first.status !== 200) throw new Error(`priming request failed: ${first.status} ${first.body.code}`);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      return get(
        env,
        { ...headers, signature: `${headers.signature},expires=${nowSeconds() - 19}` },
        '/probe/whoami?cavage-expires=1',
      );
    },
  },
  {
    name: 'cavage/date-invalid-day',
    attack: 'a Date shaped like IMF-fixdate but with day 00, which parses to NaN: no window, no replay TTL',
    request: 'Date: Sun, 00 Jan 2023 00:00:00 GMT, signed in (request-target) host date',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) =>
      get(
        env,
        signedWithDate(env, 'cavage', 'Sun, 00 Jan 2023 00:00:00 GMT', 'dcav=1'),
        '/probe/whoami?dcav=1',
      ),
  },
  {
    name: 'cavage/date-second-60',
    attack: 'a Date that is not a real time (second 60), which Date.parse quietly reads as another one',
    request: 'Date: <today> hh:mm:60 GMT, signed',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => get(env, signedWithDate(env, 'cavage', secondSixtyDate(), 'd60=1'), '/probe/whoami?d60=1'),
  },
  {
    name: 'cavage/covered-header-absent',
    attack: 'a signature over a header that the request then leaves out (known keyId)',
    request:
      'Signature: keyId="alice-rsa",headers="(request-target) host date x-tenant", sent without x-tenant',
    expect: { status: 401, code: 'SIGNATURE_COMPONENT_INVALID' },
    run: (env) => get(env, cavageMissingHeader(env, 'alice-rsa')),
  },
  {
    name: 'cavage/oracle-covered-header-absent-unknown-key',
    attack: 'learn whether a keyId exists: the answer for a missing covered header must not depend on it',
    request: 'the same, keyId="nobody"',
    expect: { status: 401, code: 'SIGNATURE_COMPONENT_INVALID' },
    run: (env) => get(env, cavageMissingHeader(env, 'nobody')),
  },
  {
    name: 'cavage/created-with-rsa-sha256',
    attack: '(created) under algorithm="rsa-sha256", which draft-12 forbids (known keyId)',
    request:
      'Signature: keyId="alice-rsa",algorithm="rsa-sha256",created=...,headers="(request-target) host date (created)"',
    expect: { status: 401, code: 'SIGNATURE_COMPONENT_INVALID' },
    run: (env) => get(env, cavageCreatedWithRsaSha256(env, 'alice-rsa')),
  },
  {
    name: 'cavage/oracle-created-with-rsa-sha256-unknown-key',
    attack:
      'learn whether a keyId exists: (created) under algorithm="rsa-sha256" is refused alike for any keyId',
    request: 'the same, keyId="nobody"',
    expect: { status: 401, code: 'SIGNATURE_COMPONENT_INVALID' },
    run: (env) => get(env, cavageCreatedWithRsaSha256(env, 'nobody')),
  },
];
