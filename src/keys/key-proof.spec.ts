import { generateKeyPairSync } from 'node:crypto';
import { SecurityContext, type AuthMethod } from '../context/security-context';
import { keyProofOf } from './key-proof';
import type { KeyRegistry } from './key-registry';
import type { RegisteredKey } from './registered-key';

const alice = { id: 'u-alice', username: 'alice', roles: ['reader'], active: true };
const key: RegisteredKey = {
  keyId: 'alice-ed',
  userId: alice.id,
  algorithm: 'ed25519',
  keyObject: generateKeyPairSync('ed25519').publicKey,
  roles: null,
  fingerprint: 'fp',
  pemSha256: 'a'.repeat(64),
  expiresAt: null,
  revokedAt: null,
};
const registry = {
  findKey: async (kid: string) => (kid === key.keyId || kid === key.pemSha256 ? key : null),
} as unknown as KeyRegistry;
const proof = (keyId: string, method: AuthMethod, user = alice) =>
  keyProofOf(new SecurityContext(user, keyId, method, null), registry);

describe('keyProofOf: which credentials prove a private key', () => {
  it.each<AuthMethod>(['jwt', 'http-signature-rfc9421', 'http-signature-cavage'])(
    'a %s signature by a registered key of the account is a key proof',
    async (method) => {
      expect(await proof('alice-ed', method)).toEqual({ kind: 'key', key });
    },
  );

  it('a verified certificate (named by its fingerprint) is a certificate proof', async () => {
    expect(await proof('b'.repeat(64), 'client-certificate')).toEqual({
      kind: 'certificate',
      fingerprint: 'b'.repeat(64),
    });
  });

  it.each<[string, string, AuthMethod, typeof alice]>([
    ['an access token (Bearer or DPoP)', 'alice-ed', 'access-token', alice],
    ['a shared HMAC secret (its keyid is no registry row)', 'hmac-shared', 'http-signature-rfc9421', alice],
    ['a subject-DN-only certificate', 'dn:CN=alice', 'client-certificate', alice],
    ['a key found by its PEM hash, not by its keyId', 'a'.repeat(64), 'jwt', alice],
    ["another account's key", 'alice-ed', 'jwt', { ...alice, id: 'u-mallory' }],
    ["a Web Bot Auth agent's key, even named like a registered key", 'alice-ed', 'web-bot-auth', alice],
  ])('%s is not', async (_what, keyId, method, user) => {
    expect((await proof(keyId, method, user)).kind).toBe('none');
  });
});
