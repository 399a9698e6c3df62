import { checkPrimeSync, generateKeyPairSync, generatePrimeSync } from 'node:crypto';
import { parsePublicKey } from './public-key-parser';
import { iroot, isqrt, weakRsaModulus } from './rsa-modulus-checks';

const prime = (bits: number) => generatePrimeSync(bits, { bigint: true });
function nextPrime(from: bigint): bigint {
  let candidate = from + 2n;
  while (!checkPrimeSync(candidate)) candidate += 2n;
  return candidate;
}
const jwkOf = (n: bigint) => {
  const hex = n.toString(16);
  return {
    kty: 'RSA',
    n: Buffer.from(hex.padStart(hex.length + (hex.length % 2), '0'), 'hex').toString('base64url'),
    e: 'AQAB',
  };
};

describe('RSA moduli that the public key alone factors (red-team 5 R4)', () => {
  it.each<[string, () => bigint, string]>([
    ['a prime modulus', () => prime(2048), 'prime'],
    ['the square of a prime', () => prime(1024) ** 2n, 'square'],
    ['the cube of a prime', () => prime(684) ** 3n, 'prime-power'],
    ['the fifth power of a prime', () => prime(410) ** 5n, 'prime-power'],
    ['3 times a prime', () => 3n * prime(2047), 'small-factor'],
    ['65521 times a prime', () => 65521n * prime(2032), 'small-factor'],
    [
      'two consecutive primes',
      () => {
        const p = prime(1024);
        return p * nextPrime(p);
      },
      'close-primes',
    ],
    [
      'primes 2^520 apart',
      () => {
        const p = prime(1024);
        return p * nextPrime(p + (1n << 515n));
      },
      'close-primes',
    ],
  ])('refuses %s (KEY_TOO_WEAK, saying why)', (_what, modulus, reason) => {
    const n = modulus();
    expect(weakRsaModulus(n)).toBe(reason);
    expect(() => parsePublicKey(jwkOf(n))).toThrow(
      expect.objectContaining({
        code: 'KEY_TOO_WEAK',
        message: expect.stringContaining('factored from the public key'),
      }),
    );
  });

  it('accepts the keys a sound generator makes', () => {
    for (const bits of [2048, 2048, 3072]) {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
      expect(parsePublicKey(publicKey.export({ type: 'spki', format: 'pem' }).toString()).bits).toBe(bits);
    }
  });

  it('iroot is the floor of the k-th root', () => {
    for (const k of [2, 3, 5, 7, 127])
      for (const n of [0n, 1n, 7n, 8n, 9n, (1n << 4096n) - 1n, 10n ** 600n, 3n ** 1000n]) {
        const r = iroot(n, k);
        expect(r ** BigInt(k) <= n && (r + 1n) ** BigInt(k) > n).toBe(true);
      }
  });

  it('isqrt is the floor of the square root', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, (1n << 4096n) - 1n, 10n ** 600n]) {
      const r = isqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    }
  });
});
