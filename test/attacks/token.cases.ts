import { generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { createDpopProof } from '../../src/client';
import { accessTokenHash } from '../../src/tokens/dpop-proof';
import type { AttackCase } from './attack-harness';
import type { AttackEnv } from './attack-env';
import { seedClaims, sign } from '../support/tokens';
import { challengeLogin, resign } from '../tokens/token-test-support';

type Case = AttackCase<AttackEnv>;

const bearer = (env: AttackEnv, token: string, path = '/probe/whoami', extra: Record<string, string> = {}) =>
  env.send(path, { headers: { authorization: `Bearer ${token}`, ...extra } });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const attackerKey = generateKeyPairSync('ed25519').privateKey;
const json = { 'content-type': 'application/json' };

/**
 * A fresh login of bob whose tokens are DPoP-bound to a key of its own (revoking a family is
 * destructive, so each case gets its own): the key and the refresh token an attacker stole.
 */
async function boundLogin(env: AttackEnv): Promise<{ key: KeyObject; refreshToken: string }> {
  const key = generateKeyPairSync('ed25519').privateKey;
  const proof = await createDpopProof({ privateKey: key, method: 'POST', url: `${env.t.server}/auth/token` });
  const res = await challengeLogin(
    env.t.server,
    'bob-1',
    env.keys.bob.privateKey,
    'ed25519',
    {},
    { DPoP: proof },
  );
  if (res.status !== 200 || res.body.tokenType !== 'DPoP')
    throw new Error(`bound login failed: ${res.status} ${res.body.code}`);
  return { key, refreshToken: res.body.refreshToken! };
}

/** POST a refresh token to /auth/refresh or /auth/revoke, with the given headers. */
const postRefreshToken = (env: AttackEnv, path: string, refreshToken: string, headers = {}) =>
  env.send(path, {
    method: 'POST',
    headers: { ...json, ...headers },
    body: JSON.stringify({ refreshToken }),
  });

/** A DPoP proof with exactly this `htu` (the client SDK would normalise it), signed by the env's DPoP key. */
export const rawProof = (env: AttackEnv, htm: string, htu: string, accessToken: string) =>
  new SignJWT({
    jti: randomBytes(16).toString('base64url'),
    htm,
    htu,
    iat: Math.floor(Date.now() / 1000),
    ath: accessTokenHash(accessToken),
  })
    .setProtectedHeader({
      typ: 'dpop+jwt',
      alg: 'EdDSA',
      jwk: env.keys.stranger.publicKey.export({ format: 'jwk' }),
    })
    .sign(env.keys.stranger.privateKey);

/** POST /keys with a new attacker key each time (so a case that gets through cannot make the next a duplicate). */
const registerAttackerKey = (env: AttackEnv, headers: Record<string, string>) =>
  env.send('/keys', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      publicKey: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    }),
  });

export const TOKEN_CASES: Case[] = [
  {
    name: 'token/alg-none',
    attack: 'an unsigned access token (alg: none) under the server kid',
    request: 'Bearer {alg:"none",typ:"at+jwt",kid:"srv-2026-11"}.claims.',
    expect: { status: 401, code: 'ALGORITHM_NOT_ALLOWED' },
    run: (env) => {
      const header = { ...decodeProtectedHeader(env.tokens.alice.accessToken), alg: 'none' };
      return bearer(env, `${b64(header)}.${b64(decodeJwt(env.tokens.alice.accessToken))}.`);
    },
  },
  {
    name: 'token/hs256-keyed-with-server-public-key',
    attack: 'HS256 with the server’s published public key as the secret',
    request: 'Bearer {alg:"HS256",typ:"at+jwt",kid:"srv-2026-11"} HMAC(JWKS key)',
    expect: { status: 401, code: 'ALGORITHM_NOT_ALLOWED' },
    run: async (env) => {
      const publicPem = Buffer.from(
        (await import('node:crypto'))
          .createPublicKey(env.server.current)
          .export({ type: 'spki', format: 'pem' })
          .toString(),
      );
      return bearer(env, await resign(env.tokens.alice.accessToken, publicPem as never, { alg: 'HS256' }));
    },
  },
  {
    name: 'token/forged-by-attacker-key',
    attack: 'an access token signed by the attacker under the server’s kid',
    request: 'Bearer {alg:"EdDSA",typ:"at+jwt",kid:"srv-2026-11"} signed by another key',
    expect: { status: 401, code: 'ACCESS_TOKEN_INVALID' },
    run: async (env) => bearer(env, await resign(env.tokens.alice.accessToken, attackerKey, {})),
  },
  {
    name: 'token/roles-claim-tampered',
    attack: 'a reader token whose roles claim is edited to admin, signature kept',
    request: 'Bearer header.{...roles:["admin","reader"]}.signature',
    expect: { status: 401, code: 'ACCESS_TOKEN_INVALID' },
    run: (env) => {
      const [h, p, s] = env.tokens.reader.accessToken.split('.');
      const claims = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), roles: ['admin', 'reader'] };
      return bearer(env, `${h}.${b64(claims)}.${s}`, '/probe/admin');
    },
  },
  {
    name: 'token/expired',
    attack: 'an access token past its exp (re-signed by the server key, to isolate the check)',
    request: 'Bearer {... exp: now-3000}',
    expect: { status: 401, code: 'TOKEN_EXPIRED' },
    run: async (env) => {
      const past = Math.floor(Date.now() / 1000) - 3600;
      return bearer(
        env,
        await resign(env.tokens.alice.accessToken, env.server.current, {}, { iat: past, exp: past + 600 }),
      );
    },
  },
  {
    name: 'token/reader-subset-on-admin-route',
    attack: 'an access token granted [reader] used on an admin route',
    request: 'GET /probe/admin, Bearer <reader token>',
    expect: { status: 403, code: 'ROLE_REQUIRED' },
    run: (env) => bearer(env, env.tokens.reader.accessToken, '/probe/admin'),
  },
  {
    name: 'token/user-tokens-revoked',
    attack: 'an access token issued before the user’s tokens were revoked',
    request: 'Bearer <token of tokuser, issued before revoke-tokens>',
    expect: { status: 401, code: 'TOKEN_REVOKED' },
    run: (env) => bearer(env, env.tokens.revoked.accessToken),
  },
  {
    name: 'token/dpop-bound-as-bearer',
    attack: 'a stolen DPoP-bound token sent as a plain Bearer token',
    request: 'Bearer <DPoP-bound token>, no proof',
    expect: { status: 401, code: 'DPOP_PROOF_REQUIRED' },
    run: (env) => bearer(env, env.tokens.bound.accessToken),
  },
  {
    name: 'token/dpop-proof-for-other-url',
    attack: 'a DPoP-bound token with a proof made for another URL',
    request: 'DPoP <token>, DPoP: proof for POST /auth/token',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) =>
      env.send('/probe/whoami', {
        headers: {
          authorization: `DPoP ${env.tokens.bound.accessToken}`,
          dpop: await env.dpop('POST', '/auth/token', env.tokens.bound.accessToken),
        },
      }),
  },
  {
    name: 'token/bearer-registers-key',
    attack: 'a stolen access token registers a permanent attacker key (it would survive revoke-tokens)',
    request: 'POST /keys {publicKey: attacker}, Authorization: Bearer <alice access token>',
    expect: { status: 403, code: 'KEY_REGISTRATION_NEEDS_KEY_PROOF' },
    run: (env) => registerAttackerKey(env, { authorization: `Bearer ${env.tokens.alice.accessToken}` }),
  },
  {
    name: 'token/dpop-token-registers-key',
    attack: 'a DPoP-bound access token, with a valid proof, registers a permanent key',
    request: 'POST /keys {publicKey: attacker}, DPoP <bob token>, DPoP: proof for POST /keys',
    expect: { status: 403, code: 'KEY_REGISTRATION_NEEDS_KEY_PROOF' },
    run: async (env) =>
      registerAttackerKey(env, {
        authorization: `DPoP ${env.tokens.bound.accessToken}`,
        dpop: await env.dpop('POST', '/keys', env.tokens.bound.accessToken),
      }),
  },
  {
    name: 'token/refresh-token-reuse',
    attack: 'a refresh token used again after rotation (stolen and raced)',
    request: 'POST /auth/refresh with a spent refresh token',
    expect: { status: 401, code: 'REFRESH_TOKEN_REUSED' },
    run: async (env) => {
      const refresh = (refreshToken: string) =>
        env.send('/auth/refresh', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken }),
        });
      const first = await refresh(env.tokens.reader.refreshToken!);
      if (first.status !== 200) throw new Error(`priming refresh failed: ${first.status} ${first.body.code}`);
      return refresh(env.tokens.reader.refreshToken!);
    },
  },
  {
    name: 'token/token-for-token',
    attack: 'exchange an access token for a new token pair (extending a stolen token)',
    request: 'POST /auth/token, Authorization: Bearer <access token>',
    expect: { status: 401, code: 'KEY_PROOF_REQUIRED' },
    run: (env) =>
      env.send('/auth/token', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${env.tokens.alice.accessToken}`,
          'content-type': 'application/json',
        },
        body: '{}',
      }),
  },
  {
    name: 'token/challenge-for-another-key',
    attack: 'a challenge issued for bob’s keyId answered with alice’s key',
    request: 'POST /auth/token {keyId:"alice-ed", challenge:<for bob-1>, signature}',
    expect: { status: 401, code: 'CHALLENGE_INVALID' },
    run: async (env) => {
      const { challengeSigningInput, signWithAlgorithm } = await import('../../src');
      const issued = await env.send('/auth/challenge', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keyId: 'bob-1' }),
      });
      const challenge = issued.body.challenge as string;
      const signature = signWithAlgorithm(
        'ed25519',
        env.keys.ed.privateKey,
        challengeSigningInput(challenge),
      );
      return env.send('/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keyId: 'alice-ed', challenge, signature: signature.toString('base64url') }),
      });
    },
  },
  {
    name: 'token/client-jwt-under-server-kid',
    attack: 'a client-signed JWT naming the server’s kid, to be mistaken for an access token',
    request: 'Bearer {alg:"EdDSA",kid:"srv-2026-11"} signed by alice',
    expect: { status: 401, code: 'ACCESS_TOKEN_INVALID' },
    run: async (env) =>
      bearer(
        env,
        await sign(env.keys.ed.privateKey, { alg: 'EdDSA', kid: 'srv-2026-11' }, seedClaims('alice')),
      ),
  },
  {
    name: 'token/server-signed-other-typ',
    attack: 'a JWT the server signed for another purpose (not typ at+jwt) used as an access token',
    request: 'Bearer {alg:"EdDSA",typ:"JWT",kid:"srv-2026-11"} signed by the server key',
    expect: { status: 401, code: 'TOKEN_TYPE_INVALID' },
    run: async (env) =>
      bearer(env, await resign(env.tokens.alice.accessToken, env.server.current, { typ: 'JWT' })),
  },
  {
    name: 'token/revoke-bound-family-without-proof',
    attack: 'a stolen DPoP-bound refresh token used to revoke (log out) its family, without a proof',
    request: 'POST /auth/revoke {refreshToken: <bound>}, no DPoP header',
    expect: { status: 401, code: 'DPOP_PROOF_REQUIRED' },
    run: async (env) => postRefreshToken(env, '/auth/revoke', (await boundLogin(env)).refreshToken),
  },
  {
    name: 'token/revoke-bound-family-proof-of-other-key',
    attack: 'a stolen DPoP-bound refresh token sent to /auth/revoke with a proof by the attacker’s key',
    request: 'POST /auth/revoke {refreshToken: <bound>}, DPoP: proof by another key',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const { refreshToken } = await boundLogin(env);
      const proof = await createDpopProof({
        privateKey: attackerKey,
        method: 'POST',
        url: `${env.t.server}/auth/revoke`,
      });
      return postRefreshToken(env, '/auth/revoke', refreshToken, { dpop: proof });
    },
  },
  {
    name: 'token/revoke-bound-family-proof-for-refresh',
    attack: 'a bound refresh token sent to /auth/revoke with a proof of its key made for /auth/refresh',
    request: 'POST /auth/revoke {refreshToken: <bound>}, DPoP: proof for POST /auth/refresh',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const { key, refreshToken } = await boundLogin(env);
      const proof = await createDpopProof({
        privateKey: key,
        method: 'POST',
        url: `${env.t.server}/auth/refresh`,
      });
      return postRefreshToken(env, '/auth/revoke', refreshToken, { dpop: proof });
    },
  },
  {
    name: 'token/refresh-bound-family-without-proof',
    attack: 'a stolen DPoP-bound refresh token exchanged for new tokens without a proof',
    request: 'POST /auth/refresh {refreshToken: <bound>}, no DPoP header',
    expect: { status: 401, code: 'DPOP_PROOF_REQUIRED' },
    run: async (env) => postRefreshToken(env, '/auth/refresh', (await boundLogin(env)).refreshToken),
  },
  {
    name: 'token/dpop-htu-encoded-dot-segments',
    attack: 'a DPoP proof for /x/%2e%2e/probe/whoami (another path) used for /probe/whoami',
    request: 'GET /probe/whoami, DPoP <token>, DPoP: proof with htu …/x/%2e%2e/probe/whoami',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const token = env.tokens.bound.accessToken;
      const proof = await rawProof(env, 'GET', `${env.t.server}/x/%2e%2e/probe/whoami`, token);
      return env.send('/probe/whoami', { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    },
  },
  {
    name: 'token/dpop-htu-backslash-dot-segments',
    attack: 'a DPoP proof for /x\\..\\probe/whoami (another path) used for /probe/whoami',
    request: 'GET /probe/whoami, DPoP <token>, DPoP: proof with htu …/x\\..\\probe/whoami',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const token = env.tokens.bound.accessToken;
      const proof = await rawProof(env, 'GET', `${env.t.server}/x\\..\\probe/whoami`, token);
      return env.send('/probe/whoami', { headers: { authorization: `DPoP ${token}`, dpop: proof } });
    },
  },
];
