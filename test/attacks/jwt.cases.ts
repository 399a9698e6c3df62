import { checkPrimeSync, generateKeyPairSync, generatePrimeSync, randomBytes } from 'node:crypto';
import { algorithmKey } from './algorithm-keys';
import type { AttackCase } from './attack-harness';
import type { AttackEnv } from './attack-env';
import { nonce, now, seedClaims, sign, unsecured } from '../support/tokens';

type Case = AttackCase<AttackEnv>;

const ED = { alg: 'EdDSA', kid: 'alice-ed' };

const toBase64url = (n: bigint) =>
  Buffer.from(n.toString(16).padStart(Math.ceil(n.toString(16).length / 2) * 2, '0'), 'hex').toString(
    'base64url',
  );
const prime = (bits: number) => generatePrimeSync(bits, { bigint: true });
function nextPrime(from: bigint): bigint {
  let candidate = from + 2n;
  while (!checkPrimeSync(candidate)) candidate += 2n;
  return candidate;
}
/** RSA moduli of 2048 bits that a stranger factors at once (or that are not a product at all). */
const WEAK_RSA_MODULI: [string, () => bigint][] = [
  ['prime', () => prime(2048)],
  ['square', () => prime(1024) ** 2n],
  ['cube', () => prime(684) ** 3n],
  ['small-factor', () => 3n * prime(2047)],
  [
    'close-primes',
    () => {
      const p = prime(1024);
      return p * nextPrime(p);
    },
  ],
];
const whoami = (env: AttackEnv, authorization: string) =>
  env.send('/probe/whoami', { headers: { authorization } });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A token of alice's Ed25519 key with this kid, signed for real (so only the kid is hostile). */
const withKid = (kid: string) => (env: AttackEnv) =>
  env.jwt(env.keys.ed, { alg: 'EdDSA', kid }, seedClaims('alice')).then((a) => whoami(env, a));

export const JWT_CASES: Case[] = [
  {
    name: 'jwt/replay-within-window',
    attack: 'replay a captured token while its time is still inside the window',
    request: 'GET /probe/whoami, Authorization: JWT <a token already accepted once>',
    expect: { status: 401, code: 'REPLAYED' },
    run: async (env) => {
      const authorization = await env.jwt(env.keys.ed, ED, seedClaims('alice'));
      const first = await whoami(env, authorization);
      if (first.status !== 200) throw new Error(`priming request failed: ${first.status} ${first.body.code}`);
      return whoami(env, authorization);
    },
  },
  {
    name: 'jwt/clock-skew-past',
    attack: 'a token dated 60 s ago (outside ±20 s)',
    request: 'JWT {username, time: now-60, nonce}',
    expect: { status: 401, code: 'TOKEN_EXPIRED' },
    run: async (env) =>
      whoami(env, await env.jwt(env.keys.ed, ED, seedClaims('alice', { time: now() - 60 }))),
  },
  {
    name: 'jwt/clock-skew-future',
    attack: 'a token dated 60 s ahead, to be replayed later',
    request: 'JWT {username, time: now+60, nonce}',
    expect: { status: 401, code: 'TOKEN_NOT_YET_VALID' },
    run: async (env) =>
      whoami(env, await env.jwt(env.keys.ed, ED, seedClaims('alice', { time: now() + 60 }))),
  },
  {
    name: 'jwt/standard-iat-future',
    attack: 'a standard token issued in the future',
    request: 'JWT {sub, iat: now+120, exp: now+240, jti}',
    expect: { status: 401, code: 'TOKEN_NOT_YET_VALID' },
    run: async (env) =>
      whoami(
        env,
        await env.jwt(env.keys.ed, ED, { sub: 'alice', iat: now() + 120, exp: now() + 240, jti: nonce() }),
      ),
  },
  {
    name: 'jwt/standard-exp-passed',
    attack: 'a standard token whose exp has passed',
    request: 'JWT {sub, iat: now-120, exp: now-60, jti}',
    expect: { status: 401, code: 'TOKEN_EXPIRED' },
    run: async (env) =>
      whoami(
        env,
        await env.jwt(env.keys.ed, ED, { sub: 'alice', iat: now() - 120, exp: now() - 60, jti: nonce() }),
      ),
  },
  {
    name: 'jwt/lifetime-too-long',
    attack: 'a standard token valid for a day, to be replayed at leisure',
    request: 'JWT {sub, iat: now, exp: now+86400, jti}',
    expect: { status: 401, code: 'TOKEN_LIFETIME_TOO_LONG' },
    run: async (env) =>
      whoami(
        env,
        await env.jwt(env.keys.ed, ED, { sub: 'alice', iat: now(), exp: now() + 86_400, jti: nonce() }),
      ),
  },
  {
    name: 'jwt/alg-none',
    attack: 'an unsigned token (alg: none) naming a real key',
    request: 'JWT base64({alg:"none",kid:"alice-ed"}).claims.',
    expect: { status: 401, code: 'ALGORITHM_NOT_ALLOWED' },
    run: (env) => whoami(env, `JWT ${unsecured(seedClaims('alice'), 'alice-ed')}`),
  },
  {
    name: 'jwt/hs256-keyed-with-public-key',
    attack: 'HS256 with the public key PEM as the HMAC secret (algorithm confusion)',
    request: 'JWT {alg:"HS256",kid:"alice-ed"} HMAC-SHA256(publicPem)',
    expect: { status: 401, code: 'ALGORITHM_NOT_ALLOWED' },
    run: async (env) => {
      const token = await sign(
        Buffer.from(env.keys.ed.publicPem),
        { alg: 'HS256', kid: 'alice-ed' },
        seedClaims('alice'),
      );
      return whoami(env, `JWT ${token}`);
    },
  },
  {
    name: 'jwt/alg-differs-from-key',
    attack: "RS256 signed by another RSA key, naming alice's Ed25519 key",
    request: 'JWT {alg:"RS256",kid:"alice-ed"}',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) =>
      whoami(env, await env.jwt(env.keys.rsa, { alg: 'RS256', kid: 'alice-ed' }, seedClaims('alice'))),
  },
  {
    name: 'jwt/es256-on-rsa-key',
    attack: "ES256 by alice's P-256 key, naming her RSA key (alg not the key's)",
    request: 'JWT {alg:"ES256",kid:"alice-rsa"}',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) =>
      whoami(env, await env.jwt(env.keys.p256, { alg: 'ES256', kid: 'alice-rsa' }, seedClaims('alice'))),
  },
  {
    name: 'jwt/ps256-on-default-rsa-key',
    attack:
      "PS256 by alice's RSA key registered without an algorithm (RS family only; PSS needs jwt.allowPssOnRsaKeys)",
    request: 'JWT {alg:"PS256",kid:"alice-rsa"}, a real PSS signature',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) =>
      whoami(env, await env.jwt(env.keys.rsa, { alg: 'PS256', kid: 'alice-rsa' }, seedClaims('alice'))),
  },
  {
    name: 'jwt/rs512-on-pinned-rsa-key',
    attack: 'RS512 by an RSA key registered with the explicit algorithm rsa-v1_5-sha256 (a pinned key pins)',
    request: 'JWT {alg:"RS512",kid:"alice-rsa-pinned"}, a real RS512 signature',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) => {
      const key = await algorithmKey(env, 'alice-rsa-pinned');
      return whoami(env, await env.jwt(key, { alg: 'RS512', kid: 'alice-rsa-pinned' }, seedClaims('alice')));
    },
  },
  {
    name: 'jwt/es256-on-p384-key',
    attack: "ES256 naming alice's P-384 key (a curve other than the key's)",
    request: 'JWT {alg:"ES256",kid:"alice-p384"} signed by her P-256 key',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) => {
      await algorithmKey(env, 'alice-p384');
      return whoami(
        env,
        await env.jwt(env.keys.p256, { alg: 'ES256', kid: 'alice-p384' }, seedClaims('alice')),
      );
    },
  },
  {
    name: 'jwt/kid-path-traversal',
    attack: 'a kid that walks the file system',
    request: 'JWT {kid:"../../../../etc/passwd"}',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: withKid('../../../../etc/passwd'),
  },
  {
    name: 'jwt/kid-sql-injection',
    attack: 'a kid with SQL metacharacters',
    request: `JWT {kid:"alice-ed' OR '1'='1' --"}`,
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: withKid("alice-ed' OR '1'='1' --"),
  },
  {
    name: 'jwt/kid-ldap-injection',
    attack: 'a kid with LDAP filter metacharacters',
    request: 'JWT {kid:"*)(uid=*))(|(uid=*"}',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: withKid('*)(uid=*))(|(uid=*'),
  },
  {
    name: 'jwt/kid-10kb',
    attack: 'a kid of 10 KB of text',
    request: 'JWT {kid:"A"×10240}',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: withKid('A'.repeat(10_240)),
  },
  {
    name: 'jwt/kid-nul-byte',
    attack: 'a kid with a NUL byte, to truncate it in a C-string lookup',
    request: 'JWT {kid:"alice-ed\\u0000x"}',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: withKid('alice-ed\u0000x'),
  },
  {
    name: 'jwt/username-unicode-lookalike',
    attack: "alice's key, claiming a Cyrillic look-alike of her name",
    request: 'JWT {kid:"alice-ed"} {username:"\\u0430lice"}',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) => whoami(env, await env.jwt(env.keys.ed, ED, seedClaims('\u0430lice'))),
  },
  {
    name: 'jwt/username-lookalike-no-kid',
    attack: 'no kid, a look-alike username (fullwidth letters), to find keys of a lookalike account',
    request: 'JWT {alg:"EdDSA"} {username:"ａｌｉｃｅ"}',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) =>
      whoami(env, await env.jwt(env.keys.ed, { alg: 'EdDSA' }, seedClaims('\uff41\uff4c\uff49\uff43\uff45'))),
  },
  {
    name: 'jwt/username-nul-byte',
    attack: 'a username with a NUL byte',
    request: 'JWT {username:"alice\\u0000admin"}',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: async (env) => whoami(env, await env.jwt(env.keys.ed, ED, seedClaims('alice\u0000admin'))),
  },
  {
    name: 'jwt/other-users-name',
    attack: "alice's key signing a token that claims to be bob",
    request: 'JWT {kid:"alice-ed"} {username:"bob"}',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) => whoami(env, await env.jwt(env.keys.ed, ED, seedClaims('bob'))),
  },
  {
    name: 'jwt/payload-swapped',
    attack: 'a valid header and signature with another payload',
    request: 'JWT header(alice).payload(other).signature(alice)',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) => {
      const good = (await env.jwt(env.keys.ed, ED, seedClaims('alice'))).slice(4).split('.');
      return whoami(env, `JWT ${good[0]}.${b64(seedClaims('alice', { time: now() - 1 }))}.${good[2]}`);
    },
  },
  {
    name: 'jwt/signature-stripped',
    attack: 'an EdDSA header with the signature removed',
    request: 'JWT header.payload.',
    expect: { status: 401, code: 'KEY_UNKNOWN_OR_SIGNATURE_INVALID' },
    run: async (env) => {
      const [h, p] = (await env.jwt(env.keys.ed, ED, seedClaims('alice'))).slice(4).split('.');
      return whoami(env, `JWT ${h}.${p}.`);
    },
  },
  {
    name: 'jwt/crit-header',
    attack: 'a crit header asking for processing rules we do not implement (b64: false)',
    request: 'JWT {alg:"EdDSA",crit:["b64"],b64:false}',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: async (env) =>
      whoami(
        env,
        `JWT ${b64({ alg: 'EdDSA', kid: 'alice-ed', crit: ['b64'], b64: false })}.${b64(seedClaims('alice'))}.AAAA`,
      ),
  },
  {
    name: 'jwt/foreign-audience',
    attack: 'a token meant for another service',
    request: 'JWT {sub, iat, exp, jti, aud:"https://other.example"}',
    expect: { status: 401, code: 'AUDIENCE_INVALID' },
    run: async (env) =>
      whoami(
        env,
        await env.jwt(env.keys.ed, ED, {
          sub: 'alice',
          iat: now(),
          exp: now() + 60,
          jti: nonce(),
          aud: 'https://other.example',
        }),
      ),
  },
  {
    name: 'jwt/htu-other-route',
    attack: 'a request-bound token (htm/htu) replayed against another route',
    request: 'JWT {htm:"GET", htu:".../probe/open"} to /probe/whoami',
    expect: { status: 401, code: 'REQUEST_BINDING_MISMATCH' },
    run: async (env) =>
      whoami(
        env,
        await env.jwt(env.keys.ed, ED, {
          sub: 'alice',
          iat: now(),
          exp: now() + 60,
          jti: nonce(),
          htm: 'GET',
          htu: `${env.t.server}/probe/open`,
        }),
      ),
  },
  {
    name: 'jwt/malformed-base64',
    attack: 'characters outside base64url in the token',
    request: 'JWT eyJ!!.e30.sig',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => whoami(env, 'JWT eyJ!!.e30.sig'),
  },
  {
    name: 'jwt/header-not-an-object',
    attack: 'a JSON header that is an array',
    request: 'JWT base64("[1]").e30.sig',
    expect: { status: 401, code: 'MALFORMED_CREDENTIALS' },
    run: (env) => whoami(env, `JWT ${Buffer.from('[1]').toString('base64url')}.e30.sig`),
  },
  {
    name: 'jwt/revoked-key',
    attack: 'a correctly signed token of a revoked key',
    request: 'JWT {kid:"carol-1"} signed by carol',
    expect: { status: 401, code: 'KEY_REVOKED' },
    run: async (env) =>
      whoami(env, await env.jwt(env.keys.carol, { alg: 'EdDSA', kid: 'carol-1' }, seedClaims('carol'))),
  },
  {
    name: 'jwt/expired-key',
    attack: 'a correctly signed token of a key past its expiresAt',
    request: 'JWT {kid:"erin-1"} signed by erin',
    expect: { status: 401, code: 'KEY_EXPIRED' },
    run: async (env) =>
      whoami(env, await env.jwt(env.keys.erin, { alg: 'EdDSA', kid: 'erin-1' }, seedClaims('erin'))),
  },
  {
    name: 'jwt/inactive-user',
    attack: 'a correctly signed token of a deactivated account',
    request: 'JWT {kid:"dave-1"} signed by dave',
    expect: { status: 401, code: 'USER_INACTIVE' },
    run: async (env) =>
      whoami(env, await env.jwt(env.keys.dave, { alg: 'EdDSA', kid: 'dave-1' }, seedClaims('dave'))),
  },
];

/** Role-subset escalation through routes and the self-service API. */
export const ESCALATION_CASES: Case[] = [
  {
    name: 'roles/reader-key-on-admin-route',
    attack: "a key limited to [reader] of an admin account, on an @Roles('admin') route",
    request: 'GET /probe/admin, JWT {kid:"alice-reader"}',
    expect: { status: 403, code: 'ROLE_REQUIRED' },
    run: async (env) =>
      env.send('/probe/admin', {
        headers: {
          authorization: await env.jwt(
            env.keys.reader,
            { alg: 'EdDSA', kid: 'alice-reader' },
            seedClaims('alice'),
          ),
        },
      }),
  },
  ...WEAK_RSA_MODULI.map(([what, modulus]): Case => ({
    name: `keys/rsa-modulus-${what}`,
    attack: `alice registers an RSA key whose modulus anyone can factor (${what}): every signature under it could be forged from the public key alone (red-team 5 R4)`,
    request: `POST /keys {publicKey: JWK {kty:"RSA", n: <${what}>, e: 65537}}, JWT {kid:"alice-ed"}`,
    expect: { status: 400, code: 'KEY_TOO_WEAK' },
    run: async (env) =>
      env.send('/keys', {
        method: 'POST',
        headers: {
          authorization: await env.jwt(env.keys.ed, ED, seedClaims('alice')),
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          publicKey: JSON.stringify({ kty: 'RSA', n: toBase64url(modulus()), e: 'AQAB' }),
        }),
      }),
  })),
  {
    name: 'roles/self-service-key-escalation',
    attack: 'the reader-limited key registers a new key of its own with roles [admin]',
    request: 'POST /keys {publicKey, roles:["admin"]}, JWT {kid:"alice-reader"}',
    expect: { status: 403, code: 'ROLES_EXCEED_CREDENTIAL' },
    run: async (env) =>
      env.send('/keys', {
        method: 'POST',
        headers: {
          authorization: await env.jwt(
            env.keys.reader,
            { alg: 'EdDSA', kid: 'alice-reader' },
            seedClaims('alice'),
          ),
          'content-type': 'application/json',
        },
        body: JSON.stringify({ publicKey: env.keys.stranger.publicPem, roles: ['admin'] }),
      }),
  },
  {
    name: 'roles/self-service-squats-url-keyid',
    attack:
      "registers someone else's public key under their fediverse key URL, so their signatures log in here as the attacker",
    request:
      'POST /keys {publicKey: stranger, keyId:"https://social.example/users/victim#main-key"}, JWT {kid:"alice-ed"}',
    expect: { status: 403, code: 'KEY_ID_RESERVED' },
    run: async (env) =>
      env.send('/keys', {
        method: 'POST',
        headers: {
          authorization: await env.jwt(env.keys.ed, { alg: 'EdDSA', kid: 'alice-ed' }, seedClaims('alice')),
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          // A key nobody registered (not the corpus's stranger key: other cases rely on it staying unknown).
          publicKey: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
          keyId: 'https://social.example/users/victim#main-key',
        }),
      }),
  },
  {
    name: 'roles/self-service-key-outlives-credential',
    attack:
      'a key an admin gave one hour registers, through self-service, a key of its account that expires in 2099',
    request:
      'POST /keys {publicKey: new, expiresAt: "2099-01-01T00:00:00Z"}, JWT {kid: <a key expiring in 1 h>}',
    expect: { status: 403, code: 'KEY_OUTLIVES_CREDENTIAL' },
    run: async (env) => {
      const user = await env.t.addUser(`temp${randomBytes(4).toString('hex')}`, ['reader']);
      const key = generateKeyPairSync('ed25519');
      const keyId = `${user.username}-1h`;
      await env.t.registry.register(user, key.publicKey.export({ type: 'spki', format: 'pem' }).toString(), {
        keyId,
        expiresAt: new Date(Date.now() + 3_600_000),
      });
      const token = await sign(key.privateKey, { alg: 'EdDSA', kid: keyId }, seedClaims(user.username));
      return env.send('/keys', {
        method: 'POST',
        headers: { authorization: `JWT ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          publicKey: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
          expiresAt: '2099-01-01T00:00:00Z',
        }),
      });
    },
  },
  {
    name: 'roles/reader-key-on-admin-api',
    attack: 'the reader-limited key registers a key through the admin API',
    request: 'POST /admin/users/alice/keys, JWT {kid:"alice-reader"}',
    expect: { status: 403, code: 'ROLE_REQUIRED' },
    run: async (env) =>
      env.send('/admin/users/alice/keys', {
        method: 'POST',
        headers: {
          authorization: await env.jwt(
            env.keys.reader,
            { alg: 'EdDSA', kid: 'alice-reader' },
            seedClaims('alice'),
          ),
          'content-type': 'application/json',
        },
        body: JSON.stringify({ publicKey: env.keys.stranger.publicPem }),
      }),
  },
  {
    name: 'roles/revoke-another-users-key',
    attack: "bob revokes alice's key through the self-service API",
    request: 'DELETE /keys/alice-ed, JWT {kid:"bob-1"}',
    expect: { status: 404, code: 'KEY_NOT_FOUND' },
    run: async (env) =>
      env.send('/keys/alice-ed', {
        method: 'DELETE',
        headers: {
          authorization: await env.jwt(env.keys.bob, { alg: 'EdDSA', kid: 'bob-1' }, seedClaims('bob')),
        },
      }),
  },
];
