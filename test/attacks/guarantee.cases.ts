import { sign as cryptoSign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_CERTIFICATE_HEADERS,
  encodeForwardedCertificate,
  ForwardedCertificateFormat,
} from '../../src';
import { signRequest } from '../../src/client';
import type { SendResult } from '../support/certificates';
import { nonce, now, seedClaims } from '../support/tokens';
import type { AttackCase } from './attack-harness';
import { loggedReason } from './attack-harness';
import { ATTACKER, AttackEnv } from './attack-env';
import { rawProof } from './token.cases';

/*
 * Attack cases that prove promises of the README, the pages under docs/ and docs/SECURITY.md which no other
 * case covered (the audit's "NO TEST" and "WEAK" rows): the Guarantees table cites them.
 */

type Case = AttackCase<AttackEnv>;

const ED = { alg: 'EdDSA', kid: 'alice-ed' };
const EVIL = 'https://evil.example';
/** What a client would add to claim that a proxy received the request for another origin. */
const FORWARDED = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };

const whoami = (env: AttackEnv, headers: Record<string, string> | string[], path = '/probe/whoami') =>
  env.send(path, { headers });
const jwtWhoami = async (env: AttackEnv, header: Parameters<AttackEnv['jwt']>[1], claims: object) =>
  whoami(env, { authorization: await env.jwt(env.keys.ed, header, claims as Record<string, unknown>) });

/** An RFC 9421 GET of /probe/whoami over exactly these components and parameters, signed by `key`. */
function rfc9421Raw(env: AttackEnv, params: string, key = env.keys.ed) {
  const input = `("@method" "@authority" "@path")${params}`;
  const base = [
    `"@method": GET`,
    `"@authority": 127.0.0.1:${env.port}`,
    `"@path": /probe/whoami`,
    `"@signature-params": ${input}`,
  ].join('\n');
  const signature = cryptoSign(null, Buffer.from(base), key.privateKey).toString('base64');
  return { 'signature-input': `sig1=${input}`, signature: `sig1=:${signature}:` };
}

/** A forged JWT: the stranger's key signs a token naming this user and key id. */
const forgedJwt = (env: AttackEnv, username: string, kid: string) =>
  env
    .jwt(env.keys.stranger, { alg: 'EdDSA', kid }, seedClaims(username))
    .then((authorization) => whoami(env, { authorization }));

/** A forged RFC 9421 signature: the stranger's key signs for this keyid. */
const forgedSignature = (env: AttackEnv, keyId: string) =>
  whoami(env, env.signed('GET', '/probe/whoami', env.keys.stranger, { keyId }));

/** A forged Cavage signature: the stranger's key signs for this keyId. */
const forgedCavage = (env: AttackEnv, keyId: string) =>
  whoami(env, env.signed('GET', '/probe/whoami', env.keys.stranger, { keyId, format: 'cavage' }));

/** Counts the requests a local HTTP server gets while `run` runs (and a little after). */
async function countingServer(run: (url: string) => Promise<SendResult>): Promise<SendResult> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await run(`http://127.0.0.1:${port}/actor#main-key`);
    await new Promise((r) => setTimeout(r, 100));
    if (hits !== 0) throw new Error(`the app fetched the keyId URL ${hits} time(s)`);
    return res;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The certificate headers of `format` (from an attacker that is not a trusted proxy). */
const forgedCertificate = (env: AttackEnv, format: ForwardedCertificateFormat) =>
  env.send('/probe/whoami', {
    headers: encodeForwardedCertificate(format, env.certs.registered.certificate),
    localAddress: ATTACKER,
  });

export const GUARANTEE_CASES: Case[] = [
  // Replay of standard JWTs (docs/jwt.md: "each `jti` once per user until `exp`").
  {
    name: 'guarantee/jwt-standard-jti-replay',
    attack: 'replay a standard {sub, iat, exp, jti} token inside its lifetime',
    request: 'the same JWT {sub, iat, exp: iat+60, jti} twice',
    expect: { status: 401, code: 'REPLAYED' },
    run: async (env) => {
      const authorization = await env.jwt(env.keys.ed, ED, {
        sub: 'alice',
        iat: now(),
        exp: now() + 60,
        jti: nonce(),
      });
      const first = await whoami(env, { authorization });
      if (first.status !== 200) throw new Error(`priming request failed: ${first.status} ${first.body.code}`);
      return whoami(env, { authorization });
    },
  },
  {
    name: 'guarantee/jwt-standard-jti-in-new-token',
    attack: 'a new standard token (other exp, other key) that reuses a jti already accepted',
    request:
      'JWT {sub, iat, exp: iat+60, jti: J} accepted, then JWT of alice-p256 {sub, iat, exp: iat+120, jti: J}',
    expect: { status: 401, code: 'REPLAYED' },
    run: async (env) => {
      const jti = nonce();
      const first = await jwtWhoami(env, ED, { sub: 'alice', iat: now(), exp: now() + 60, jti });
      if (first.status !== 200) throw new Error(`priming request failed: ${first.status} ${first.body.code}`);
      const again = await env.jwt(
        env.keys.p256,
        { alg: 'ES256', kid: 'alice-p256' },
        { sub: 'alice', iat: now(), exp: now() + 120, jti },
      );
      return whoami(env, { authorization: again });
    },
  },

  // A time must be covered (docs/http-signatures.md "minimum coverage": created or date; Cavage date or (created)).
  {
    name: 'guarantee/rfc9421-no-time-covered',
    attack: 'an RFC 9421 signature with neither created nor a covered date: replayable for ever',
    request: 'Signature-Input: sig1=("@method" "@authority" "@path");keyid="alice-ed";nonce=…',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) => whoami(env, rfc9421Raw(env, `;keyid="alice-ed";nonce="${nonce()}"`)),
  },
  {
    name: 'guarantee/rfc9421-date-sent-not-covered',
    attack: 'no created, and a Date header that is sent but not covered',
    request: 'Date: <now>, Signature-Input: sig1=("@method" "@authority" "@path");keyid="alice-ed"',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) => whoami(env, { ...rfc9421Raw(env, `;keyid="alice-ed"`), date: new Date().toUTCString() }),
  },
  {
    name: 'guarantee/cavage-no-time-covered',
    attack: 'a Cavage signature over (request-target) and host only (Date sent, not covered)',
    request: 'Signature: keyId="alice-rsa",headers="(request-target) host",…',
    expect: { status: 401, code: 'SIGNATURE_COVERAGE_INSUFFICIENT' },
    run: (env) =>
      whoami(
        env,
        env.signed('GET', '/probe/whoami', env.keys.rsa, {
          keyId: 'alice-rsa',
          format: 'cavage',
          components: ['(request-target)', 'host'],
        }),
      ),
  },

  // X-Forwarded-* is never read (docs/http-signatures.md, SECURITY "What the library does not do").
  {
    name: 'guarantee/rfc9421-x-forwarded-authority',
    attack: 'a request signed for https://evil.example, sent here with X-Forwarded-Host/-Proto naming it',
    request: 'RFC 9421 over @authority evil.example (@scheme https), X-Forwarded-Host: evil.example',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) => {
      const { headers } = signRequest(
        { method: 'GET', url: `${EVIL}/probe/whoami` },
        {
          keyId: 'alice-ed',
          privateKey: env.keys.ed.privateKey,
          components: ['@method', '@authority', '@scheme', '@path'],
        },
      );
      return whoami(env, { ...headers, ...FORWARDED });
    },
  },
  {
    name: 'guarantee/jwt-htu-x-forwarded',
    attack: 'a JWT bound (htm/htu) to https://evil.example, sent with X-Forwarded-Host/-Proto naming it',
    request: 'JWT {htm: GET, htu: https://evil.example/probe/whoami}, X-Forwarded-Host: evil.example',
    expect: { status: 401, code: 'REQUEST_BINDING_MISMATCH' },
    run: async (env) =>
      whoami(env, {
        authorization: await env.jwt(
          env.keys.ed,
          ED,
          seedClaims('alice', { htm: 'GET', htu: `${EVIL}/probe/whoami` }),
        ),
        ...FORWARDED,
      }),
  },
  {
    name: 'guarantee/dpop-htu-x-forwarded',
    attack: 'a DPoP proof for https://evil.example, sent with X-Forwarded-Host/-Proto naming it',
    request: 'DPoP <bound token>, DPoP: proof {htu: https://evil.example/probe/whoami}',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const accessToken = env.tokens.bound.accessToken;
      const proof = await rawProof(env, 'GET', `${EVIL}/probe/whoami`, accessToken);
      return whoami(env, { authorization: `DPoP ${accessToken}`, dpop: proof, ...FORWARDED });
    },
  },

  // Keys are never fetched from a keyId URL; no fallback drops the query from (request-target).
  {
    name: 'guarantee/cavage-keyid-url-not-fetched',
    attack: 'a Cavage keyId that is a URL (ActivityPub style), hoping the server fetches the key there',
    request: 'Signature: keyId="http://127.0.0.1:<listening>/actor#main-key",… (the server must get no hit)',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) =>
      countingServer((keyId) =>
        whoami(env, env.signed('GET', '/probe/whoami', env.keys.rsa, { keyId, format: 'cavage' })),
      ),
  },
  {
    name: 'guarantee/rfc9421-keyid-url-not-fetched',
    attack: 'an RFC 9421 keyid that is a URL, hoping the server fetches the key there',
    request:
      'Signature-Input: …;keyid="http://127.0.0.1:<listening>/actor#main-key" (the server must get no hit)',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) =>
      countingServer((keyId) => whoami(env, env.signed('GET', '/probe/whoami', env.keys.ed, { keyId }))),
  },
  {
    name: 'guarantee/cavage-query-added',
    attack: 'a Cavage (request-target) signed without a query, sent with one (no fallback drops it)',
    request: 'Signature over "get /probe/whoami", sent as GET /probe/whoami?admin=1',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: (env) =>
      whoami(
        env,
        env.signed('GET', '/probe/whoami', env.keys.rsa, { keyId: 'alice-rsa', format: 'cavage' }),
        '/probe/whoami?admin=1',
      ),
  },

  // JWT claims are capped at 256 characters.
  {
    name: 'guarantee/jwt-username-257',
    attack: 'a 257-character username claim in a token under 8 KB',
    request: 'JWT {username: "a"×257, time, nonce}',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => jwtWhoami(env, ED, seedClaims('a'.repeat(257))),
  },
  {
    name: 'guarantee/jwt-nonce-257',
    attack: 'a 257-character nonce (a store key of the attacker’s size)',
    request: 'JWT {username: alice, time, nonce: "n"×257}',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => jwtWhoami(env, ED, seedClaims('alice', { nonce: 'n'.repeat(257) })),
  },
  {
    name: 'guarantee/jwt-jti-257',
    attack: 'a 257-character jti in a standard token',
    request: 'JWT {sub: alice, iat, exp, jti: "j"×257}',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => jwtWhoami(env, ED, { sub: 'alice', iat: now(), exp: now() + 60, jti: 'j'.repeat(257) }),
  },

  // Key ids are capped at 255 characters (the limit itself, not the 8 KB field cap).
  {
    name: 'guarantee/rfc9421-keyid-256',
    attack: 'a 256-character keyid in a signature far under 8 KB',
    request: 'Signature-Input: …;keyid="k"×256',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) =>
      whoami(env, env.signed('GET', '/probe/whoami', env.keys.ed, { keyId: 'k'.repeat(256) })).then(
        loggedReason(env, 'keyid'),
      ),
  },
  {
    name: 'guarantee/cavage-keyid-256',
    attack: 'a 256-character Cavage keyId in a header far under 8 KB',
    request: 'Signature: keyId="k"×256,…',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) =>
      whoami(
        env,
        env.signed('GET', '/probe/whoami', env.keys.rsa, { keyId: 'k'.repeat(256), format: 'cavage' }),
      ).then(loggedReason(env, 'keyId')),
  },
  {
    name: 'guarantee/jwt-kid-256',
    attack: 'a 256-character kid in a token far under 8 KB',
    request: 'JWT header {alg: EdDSA, kid: "k"×256}',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) =>
      jwtWhoami(env, { alg: 'EdDSA', kid: 'k'.repeat(256) }, seedClaims('alice')).then(
        loggedReason(env, 'kid'),
      ),
  },

  // The Authorization header is capped at 16 KB (the cap itself: the logged reason says which fired).
  {
    name: 'guarantee/authorization-17kb',
    attack: 'a 17 KB Authorization header (over the 16 KB cap, under Node’s 64 KB)',
    request: 'Authorization: Bearer "a"×17000',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) =>
      whoami(env, { authorization: `Bearer ${'a'.repeat(17_000)}` }).then(
        loggedReason(env, 'Authorization header too long'),
      ),
  },

  // Revoked, expired and inactive are told only after the signature verified: a forgery naming
  // such a key looks like any unknown key.
  ...(
    [
      ['carol', 'carol-1', 'revoked key'],
      ['erin', 'erin-1', 'expired key'],
      ['dave', 'dave-1', 'inactive user'],
    ] as const
  ).flatMap(([user, keyId, what]): Case[] => [
    {
      name: `guarantee/jwt-forged-${keyId}`,
      attack: `a forged JWT naming ${keyId} (${what}), to learn its state`,
      request: `JWT {kid: ${keyId}, username: ${user}} signed by a stranger's key`,
      expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
      run: (env) => forgedJwt(env, user, keyId),
    },
    {
      name: `guarantee/rfc9421-forged-${keyId}`,
      attack: `a forged RFC 9421 signature naming ${keyId} (${what})`,
      request: `Signature-Input: …;keyid="${keyId}", signed by a stranger's key`,
      expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
      run: (env) => forgedSignature(env, keyId),
    },
    {
      name: `guarantee/cavage-forged-${keyId}`,
      attack: `a forged Cavage signature naming ${keyId} (${what})`,
      request: `Signature: keyId="${keyId}",…, signed by a stranger's key`,
      expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
      run: (env) => forgedCavage(env, keyId),
    },
  ]),

  // Certificate headers of every format from a peer that is not a trusted proxy.
  ...(['apache', 'haproxy', 'aws-alb'] as const).map((format): Case => ({
    name: `guarantee/cert-${format}-untrusted-peer`,
    attack: `forged ${format} certificate headers sent straight to the app (the app is configured for nginx)`,
    request: `from ${ATTACKER}: ${DEFAULT_CERTIFICATE_HEADERS[format]}: <a registered certificate>`,
    expect: { status: 400, code: 'CERT_HEADER_UNTRUSTED' },
    run: (env) => forgedCertificate(env, format),
  })),
];
