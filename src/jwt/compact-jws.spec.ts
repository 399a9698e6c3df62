import { generateKeyPairSync, sign } from 'node:crypto';
import { SignJWT } from 'jose';
import { KeypairAuthException } from '../errors/keypair-auth.exception';
import { verifyWithAlgorithm } from '../keys/key-algorithm';
import { parseCompactJws } from './compact-jws';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('parseCompactJws', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');

  it('gives the same signing input and signature that jose produced, and they verify', async () => {
    const token = await new SignJWT({ username: 'a', time: 1, nonce: 'n' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k' })
      .sign(privateKey);
    const jws = parseCompactJws(token);
    expect(jws.header).toEqual({ alg: 'EdDSA', kid: 'k' });
    expect(jws.payload).toEqual({ username: 'a', time: 1, nonce: 'n' });
    expect(verifyWithAlgorithm('ed25519', publicKey, jws.signingInput, jws.signature)).toBe(true);
  });

  it.each([
    ['a crit header', { alg: 'EdDSA', crit: ['exp'], exp: 1 }, { sub: 'a' }],
    ['an unencoded payload (b64: false)', { alg: 'EdDSA', crit: ['b64'], b64: false }, { sub: 'a' }],
    ['a header that is an array', ['EdDSA'], { sub: 'a' }],
    ['a payload that is a string', { alg: 'EdDSA' }, 'just text'],
    ['a payload that is null', { alg: 'EdDSA' }, null],
  ])('refuses %s with MALFORMED_CREDENTIALS', (_name, header, payload) => {
    const input = `${b64(header)}.${b64(payload as unknown)}`;
    const token = `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
    let error: unknown;
    try {
      parseCompactJws(token);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeypairAuthException);
    expect((error as KeypairAuthException).code).toBe('MALFORMED_CREDENTIALS');
  });

  it('refuses bytes that are not JSON', () => {
    expect(() => parseCompactJws(`${b64('{not json')}.${b64({})}.AA`)).toThrow(KeypairAuthException);
  });
});
