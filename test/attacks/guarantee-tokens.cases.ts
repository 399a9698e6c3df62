import {
  createHash,
  createHmac,
  generateKeyPairSync,
  generatePrimeSync,
  KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { challengeSigningInput, signWithAlgorithm, User } from '../../src';
import type { SendResult } from '../support/certificates';
import { type AttackCase, loggedReason } from './attack-harness';
import type { AttackEnv } from './attack-env';
import { resign } from '../tokens/token-test-support';

type Case = AttackCase<AttackEnv>;

const json = { 'content-type': 'application/json' };

/** Challenge, sign it with `key`, then POST /auth/token with `headers` (e.g. a DPoP proof). */
async function login(
  env: AttackEnv,
  keyId: string,
  key: KeyObject,
  headers: Record<string, string> = {},
): Promise<SendResult> {
  const issued = await env.send('/auth/challenge', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ keyId }),
  });
  const challenge = issued.body.challenge as string;
  const signature = signWithAlgorithm('ed25519', key, challengeSigningInput(challenge)).toString('base64url');
  return env.send('/auth/token', {
    method: 'POST',
    headers: { ...json, ...headers },
    body: JSON.stringify({ keyId, challenge, signature }),
  });
}

/**
 * A user of its own for one case (cases that change an account must not disturb the
 * others): `admin, reader`, one Ed25519 key, and a fresh login of it.
 */
async function ownUser(
  env: AttackEnv,
  name: string,
): Promise<{ userId: string; accessToken: string; refreshToken: string }> {
  const user = await env.t.addUser(name, ['admin', 'reader']);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await env.t.registry.register(user, publicKey.export({ type: 'spki', format: 'pem' }).toString(), {
    keyId: `${name}-1`,
  });
  const res = await login(env, `${name}-1`, privateKey);
  if (res.status !== 200) throw new Error(`login of ${name} failed: ${res.status} ${res.body.code}`);
  return {
    userId: user.id,
    accessToken: res.body.accessToken as string,
    refreshToken: res.body.refreshToken as string,
  };
}

const refresh = (env: AttackEnv, refreshToken: string) =>
  env.send('/auth/refresh', { method: 'POST', headers: json, body: JSON.stringify({ refreshToken }) });

/**
 * A DPoP proof for POST /auth/token that is valid in every way except its header: the
 * signature (made here with node:crypto, which, unlike jose, signs with any key) verifies
 * with its own `jwk`, so only the header rules can refuse it.
 */
function proofFor(
  env: AttackEnv,
  alg: string,
  jwk: Record<string, unknown>,
  signInput: (input: Buffer) => Buffer,
): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ typ: 'dpop+jwt', alg, jwk })}.${b64({
    jti: randomBytes(16).toString('base64url'),
    htm: 'POST',
    htu: `${env.t.server}/auth/token`,
    iat: Math.floor(Date.now() / 1000),
  })}`;
  return `${input}.${signInput(Buffer.from(input)).toString('base64url')}`;
}

/** EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of SHA-256(input), `size` bytes long: what RS256 signs. */
function pkcs1Sha256Encoding(input: Buffer, size: number): Buffer {
  const prefix = Buffer.from('3031300d060960864801650304020105000420', 'hex');
  const t = Buffer.concat([prefix, createHash('sha256').update(input).digest()]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(size - t.length - 3, 0xff), Buffer.from([0]), t]);
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r, oldS, s] = [a, m, 1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

const publicJwk = (key: KeyObject) => key.export({ format: 'jwk' }) as Record<string, unknown>;

/**
 * Guarantees of the token endpoints that the audit found untested: a keyring key that was
 * removed, the DPoP header rules, logout, and tokens that follow the account's current
 * state (a role taken away, a deactivated account), on the default attack environment.
 */
export const GUARANTEE_TOKEN_CASES: Case[] = [
  {
    name: 'token/kid-removed-from-keyring',
    attack:
      'an access token signed by a server key that is no longer in the keyring (rotated out, or stolen)',
    request: 'Bearer {alg:"EdDSA",typ:"at+jwt",kid:"srv-2026-09"} signed by that key',
    expect: { status: 401, code: 'ACCESS_TOKEN_INVALID' },
    run: async (env) => {
      const retired = generateKeyPairSync('ed25519').privateKey;
      const token = await resign(env.tokens.alice.accessToken, retired, { kid: 'srv-2026-09' });
      return env.send('/probe/whoami', { headers: { authorization: `Bearer ${token}` } });
    },
  },
  {
    name: 'token/dpop-proof-hs256',
    attack: 'a DPoP proof MACed with HS256 (a symmetric jwk), to bind tokens to a shared secret',
    request: 'POST /auth/token, DPoP: {typ:"dpop+jwt",alg:"HS256",jwk:{kty:"oct",...}}',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const secret = randomBytes(32);
      const jwk = { kty: 'oct', k: secret.toString('base64url') };
      const proof = proofFor(env, 'HS256', jwk, (input) =>
        createHmac('sha256', secret).update(input).digest(),
      );
      return login(env, 'alice-ed', env.keys.ed.privateKey, { DPoP: proof });
    },
  },
  {
    name: 'token/dpop-proof-es512',
    attack: 'a DPoP proof with alg ES512 (P-521), an algorithm outside the accepted list',
    request: 'POST /auth/token, DPoP: {typ:"dpop+jwt",alg:"ES512",jwk:<P-521 public key>}',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-521' });
      const proof = proofFor(env, 'ES512', publicJwk(publicKey), (input) =>
        sign('sha512', input, { key: privateKey, dsaEncoding: 'ieee-p1363' }),
      );
      return login(env, 'alice-ed', env.keys.ed.privateKey, { DPoP: proof });
    },
  },
  {
    name: 'token/dpop-proof-rsa-1024',
    attack: 'a DPoP proof signed with a 1024-bit RSA key (factorable), to bind tokens to a weak key',
    request: 'POST /auth/token, DPoP: {typ:"dpop+jwt",alg:"RS256",jwk:<RSA 1024 public key>}',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const proof = proofFor(env, 'RS256', publicJwk(publicKey), (input) =>
        sign('sha256', input, privateKey),
      );
      return login(env, 'alice-ed', env.keys.ed.privateKey, { DPoP: proof });
    },
  },
  {
    name: 'token/dpop-proof-rsa-16384',
    attack:
      'a DPoP proof whose jwk is a 16384-bit RSA key (made up: no factoring needed), so that every proof costs the server ~1 ms to verify',
    request:
      'POST /auth/token, DPoP: {typ:"dpop+jwt",alg:"RS256",jwk:{kty:"RSA",n:<16384 random bits>,e:"AQAB"}}',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const n = randomBytes(2048);
      n[0] |= 0x80;
      n[n.length - 1] |= 1;
      const jwk = { kty: 'RSA', n: n.toString('base64url'), e: 'AQAB' };
      const proof = proofFor(env, 'RS256', jwk, () => randomBytes(2048));
      // Refused for its size, before any verification is paid for.
      return login(env, 'alice-ed', env.keys.ed.privateKey, { DPoP: proof }).then(
        loggedReason(env, 'RSA key of 16384 bits'),
      );
    },
  },
  {
    name: 'token/dpop-proof-rsa-huge-exponent',
    attack:
      'a DPoP proof whose jwk is a made-up 3072-bit RSA key with a 3064-bit exponent: each verify costs ~5 ms, and a refused proof can be sent again forever',
    request:
      'POST /auth/token, DPoP: {typ:"dpop+jwt",alg:"RS256",jwk:{kty:"RSA",n:<3072 bits>,e:<3064 bits>}}',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const n = randomBytes(384);
      n[0] |= 0x80;
      n[n.length - 1] |= 1;
      const e = randomBytes(383);
      e[0] |= 0x80;
      e[e.length - 1] |= 1;
      const jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
      const proof = proofFor(env, 'RS256', jwk, () => randomBytes(384));
      // Refused for its exponent, before any verification is paid for.
      return login(env, 'alice-ed', env.keys.ed.privateKey, { DPoP: proof }).then(
        loggedReason(env, 'RSA public exponent'),
      );
    },
  },
  {
    name: 'token/dpop-proof-rsa-exponent-1',
    attack:
      'a DPoP proof whose jwk is an RSA key with e = 1: its "signature" is the PKCS#1 v1.5 encoding of the signing input itself, so anyone can make proofs for it and the binding proves nothing (red-team 5 RED2-F2)',
    request:
      'POST /auth/token, DPoP: {alg:"RS256",jwk:{kty:"RSA",n:<2048 bits>,e:"AQ"}}, signature = EMSA-PKCS1-v1_5(input)',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const n = randomBytes(256);
      n[0] |= 0x80;
      n[n.length - 1] |= 1;
      const jwk = { kty: 'RSA', n: n.toString('base64url'), e: 'AQ' };
      // With e = 1 the encoded message itself is the valid signature.
      const forge = (input: Buffer) => pkcs1Sha256Encoding(input, 256);
      return login(env, 'alice-ed', env.keys.ed.privateKey, {
        DPoP: proofFor(env, 'RS256', jwk, forge),
      }).then(loggedReason(env, 'RSA public exponent'));
    },
  },
  {
    name: 'token/dpop-proof-ed25519-identity-point',
    attack:
      'a DPoP proof key that is the Ed25519 identity point: R = identity, S = 0 verifies for every input, so whoever holds the token makes proofs with no key (red-team 5 red4 R2)',
    request:
      'POST /auth/token, DPoP: {alg:"EdDSA",jwk:{kty:"OKP",crv:"Ed25519",x:<01 00…00>}}, signature = identity || 0',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const identity = Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]);
      const jwk = { kty: 'OKP', crv: 'Ed25519', x: identity.toString('base64url') };
      const forged = () => Buffer.concat([identity, Buffer.alloc(32)]);
      return login(env, 'alice-ed', env.keys.ed.privateKey, {
        DPoP: proofFor(env, 'EdDSA', jwk, forged),
      }).then(loggedReason(env, 'small-order'));
    },
  },
  {
    name: 'token/dpop-proof-rsa-prime-modulus',
    attack:
      'a DPoP proof key whose RSA modulus is a prime: d follows from n - 1, so the binding proves nothing (red-team 5 red4 R2b)',
    request:
      'POST /auth/token, DPoP: {alg:"RS256",jwk:{kty:"RSA",n:<2048-bit prime>,e:"AQAB"}}, signed with d = e^-1 mod (n - 1)',
    expect: { status: 401, code: 'DPOP_PROOF_INVALID' },
    run: async (env) => {
      const n = generatePrimeSync(2048, { bigint: true });
      const e = 65537n;
      const d = modInverse(e, n - 1n);
      const hex = (v: bigint, bytes: number) => v.toString(16).padStart(bytes * 2, '0');
      const jwk = { kty: 'RSA', n: Buffer.from(hex(n, 256), 'hex').toString('base64url'), e: 'AQAB' };
      const forge = (input: Buffer) => {
        const em = pkcs1Sha256Encoding(input, 256);
        return Buffer.from(hex(modPow(BigInt(`0x${em.toString('hex')}`), d, n), 256), 'hex');
      };
      return login(env, 'alice-ed', env.keys.ed.privateKey, {
        DPoP: proofFor(env, 'RS256', jwk, forge),
      }).then(loggedReason(env, 'factored'));
    },
  },
  {
    name: 'token/refresh-after-logout',
    attack: 'a refresh token of a family its owner logged out (POST /auth/revoke), used afterwards',
    request: 'POST /auth/refresh {refreshToken: <of a revoked family>}',
    expect: { status: 401, code: 'TOKEN_REVOKED' },
    run: async (env) => {
      const { refreshToken } = await ownUser(env, 'gt-logout');
      const out = await env.send('/auth/revoke', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ refreshToken }),
      });
      if (out.status !== 200 || out.body.revoked !== true)
        throw new Error(`logout failed: ${out.status} ${out.text}`);
      return refresh(env, refreshToken);
    },
  },
  {
    name: 'token/account-role-removed',
    attack: 'an admin token used on an admin route after the admin role was taken from the account',
    request: 'GET /probe/admin, Bearer <token granted admin,reader>, account now [reader]',
    expect: { status: 403, code: 'ROLE_REQUIRED' },
    run: async (env) => {
      const { userId, accessToken } = await ownUser(env, 'gt-demoted');
      const before = await env.send('/probe/admin', { headers: { authorization: `Bearer ${accessToken}` } });
      if (before.status !== 200) throw new Error(`admin route before the change: ${before.status}`);
      await env.t.dataSource.getRepository(User).update({ id: userId }, { roles: ['reader'] });
      env.t.registry.forgetUser(userId);
      return env.send('/probe/admin', { headers: { authorization: `Bearer ${accessToken}` } });
    },
  },
  {
    name: 'token/account-deactivated-access',
    attack: 'an access token used after its account was deactivated',
    request: 'GET /probe/whoami, Bearer <token of a now inactive account>',
    expect: { status: 401, code: 'USER_INACTIVE' },
    run: async (env) => {
      const { userId, accessToken } = await ownUser(env, 'gt-inactive-at');
      await env.t.registry.directory.setActive!(userId, false);
      env.t.registry.forgetUser(userId);
      return env.send('/probe/whoami', { headers: { authorization: `Bearer ${accessToken}` } });
    },
  },
  {
    name: 'token/account-deactivated-refresh',
    attack: 'a refresh token used after its account was deactivated',
    request: 'POST /auth/refresh {refreshToken: <of a now inactive account>}',
    expect: { status: 401, code: 'USER_INACTIVE' },
    run: async (env) => {
      const { userId, refreshToken } = await ownUser(env, 'gt-inactive-rt');
      await env.t.registry.directory.setActive!(userId, false);
      return refresh(env, refreshToken);
    },
  },
];
