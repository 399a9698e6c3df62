import { createHash, generateKeyPairSync, KeyObject } from 'node:crypto';

export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
  privatePem: string;
  /** The asymmetric_jwt_auth `kid`: hex SHA-256 of the SPKI PEM. */
  pemSha256: string;
}

export type TestKeyType = 'ed25519' | 'p256' | 'p384' | 'rsa';

const cache = new Map<TestKeyType, TestKeyPair[]>();

/** Fresh key pairs (RSA generation is slow, so each test file reuses a small pool). */
export function testKey(type: TestKeyType = 'ed25519', index = 0): TestKeyPair {
  const pool = cache.get(type) ?? [];
  cache.set(type, pool);
  while (pool.length <= index) {
    const pair =
      type === 'ed25519'
        ? generateKeyPairSync('ed25519')
        : type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 2048 })
          : generateKeyPairSync('ec', { namedCurve: type === 'p256' ? 'P-256' : 'P-384' });
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    pool.push({
      ...pair,
      publicPem,
      privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      pemSha256: createHash('sha256').update(publicPem).digest('hex'),
    });
  }
  return pool[index];
}
