import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { accessTokenHash } from '../../src/tokens/dpop-proof';
import { AttackEnv, createAttackEnv } from '../attacks/attack-env';
import { SendResult } from '../support/certificates';
import { testKey } from '../support/keys';
import { ADAPTERS } from '../support/test-app';
import { nonce, now, seedClaims } from '../support/tokens';

/*
 * "A forged credential burns nothing" (docs/replay-protection.md): nonces and DPoP jtis are claimed
 * only after everything else verified, so an attacker who sees or guesses a nonce cannot spend
 * it first. Each test sends the forgery with nonce N, then the genuine credential with N: 200.
 */

const forger = testKey('ed25519', 9);

describe.each(ADAPTERS)('forged credentials burn no nonce, %s', (adapter) => {
  let env: AttackEnv;

  beforeAll(async () => {
    env = await createAttackEnv(adapter);
  }, 60_000);
  afterAll(() => env?.t.close());

  const whoami = (headers: Record<string, string>) => env.send('/probe/whoami', { headers });
  const answer = (res: SendResult) => `${res.status} ${res.body.code ?? ''}`.trim();
  const jwt = (key: typeof forger, claims: Record<string, unknown>) =>
    env
      .jwt(key, { alg: 'EdDSA', kid: 'alice-ed' }, claims)
      .then((authorization) => whoami({ authorization }));

  it('JWT: a forged token with nonce N, then the genuine one with N is accepted (then N is spent)', async () => {
    const claims = seedClaims('alice');
    expect(answer(await jwt(forger, claims))).toBe('401 KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    expect(answer(await jwt(env.keys.ed, claims))).toBe('200');
    expect(answer(await jwt(env.keys.ed, { ...claims, time: now() }))).toBe('401 REPLAYED');
  });

  it('JWT: a forged standard token with jti J, then the genuine one with J is accepted', async () => {
    const claims = { sub: 'alice', iat: now(), exp: now() + 60, jti: nonce() };
    expect(answer(await jwt(forger, claims))).toBe('401 KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    expect(answer(await jwt(env.keys.ed, claims))).toBe('200');
  });

  it('JWT: a genuine token that fails a later check (another user’s name) burns nothing either', async () => {
    const claims = seedClaims('bob');
    // alice's key signs a token naming bob: verified signature, wrong owner.
    expect(answer(await jwt(env.keys.ed, claims))).toBe('401 KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    const bobs = await env.jwt(env.keys.bob, { alg: 'EdDSA', kid: 'bob-1' }, claims);
    expect(answer(await whoami({ authorization: bobs }))).toBe('200');
  });

  it('RFC 9421: a signature by another key with nonce N, then the genuine one with N is accepted', async () => {
    const n = nonce();
    const forged = env.signed('GET', '/probe/whoami', forger, { keyId: 'alice-ed', nonce: n });
    expect(answer(await whoami(forged))).toBe('401 KEY_UNKNOWN_OR_SIGNATURE_INVALID');
    const genuine = env.signed('GET', '/probe/whoami', env.keys.ed, { keyId: 'alice-ed', nonce: n });
    expect(answer(await whoami(genuine))).toBe('200');
    const again = env.signed('GET', '/probe/whoami', env.keys.ed, { keyId: 'alice-ed', nonce: n });
    expect(answer(await whoami(again))).toBe('401 REPLAYED');
  });

  it('RFC 9421: a genuine signature over a body that does not match its digest burns nothing', async () => {
    const n = nonce();
    const body = '{"amount":1}';
    const headers = env.signed('POST', '/probe/echo', env.keys.ed, { keyId: 'alice-ed', nonce: n }, { body });
    const swapped = await env.send('/probe/echo', { method: 'POST', headers, body: '{"amount":9}' });
    expect(answer(swapped)).toBe('401 DIGEST_MISMATCH');
    const genuine = await env.send('/probe/echo', { method: 'POST', headers, body });
    expect(answer(genuine)).toBe('200');
  });

  /** A DPoP proof for GET /probe/whoami with this jti, signed by `signer` under the stranger's jwk. */
  const proof = (jti: string, accessToken: string, signer = env.keys.stranger) =>
    new SignJWT({
      jti,
      htm: 'GET',
      htu: `${env.t.server}/probe/whoami`,
      iat: now(),
      ath: accessTokenHash(accessToken),
    })
      .setProtectedHeader({
        typ: 'dpop+jwt',
        alg: 'EdDSA',
        jwk: env.keys.stranger.publicKey.export({ format: 'jwk' }),
      })
      .sign(signer.privateKey);

  it('DPoP: a badly signed proof with jti J, then a valid proof with J is accepted (then J is spent)', async () => {
    const token = env.tokens.bound.accessToken;
    const jti = randomBytes(16).toString('base64url');
    const send = async (p: string) => whoami({ authorization: `DPoP ${token}`, dpop: p });
    expect(answer(await send(await proof(jti, token, forger)))).toBe('401 DPOP_PROOF_INVALID');
    expect(answer(await send(await proof(jti, token)))).toBe('200');
    expect(answer(await send(await proof(jti, token)))).toMatch(/^401 (DPOP_PROOF_INVALID|REPLAYED)$/);
  });

  it('DPoP: a valid proof with jti J for a tampered access token is refused, and J stays unspent', async () => {
    const token = env.tokens.bound.accessToken;
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const jti = randomBytes(16).toString('base64url');
    const refused = await whoami({ authorization: `DPoP ${tampered}`, dpop: await proof(jti, tampered) });
    expect(refused.status).toBe(401);
    const res = await whoami({ authorization: `DPoP ${token}`, dpop: await proof(jti, token) });
    expect(answer(res)).toBe('200');
  });
});
