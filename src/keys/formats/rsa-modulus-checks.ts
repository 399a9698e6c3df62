/**
 * Checks that an RSA modulus cannot be factored from the public key alone. A key that
 * fails one lets anyone compute the private exponent and sign as its owner, like the
 * small-order Ed25519 points that ed25519-point.ts refuses.
 *
 * Why hand-written: node:crypto checks nothing of a public modulus beyond parsing, and no
 * maintained npm library does these checks (the reference is the Python tool badkeys, whose
 * checks for prime moduli, prime powers, small factors and Fermat-close primes these follow). They run
 * at registration and once per DPoP key bound to a token, on a modulus of at most 8192 bits
 * (MAX_RSA_BITS): about 1 ms at 2048 bits, up to ~0.4 s at 8192 (the primality test).
 */
import { checkPrimeSync } from 'node:crypto';

/** Why a modulus is factorable, or undefined when none of the checks finds a way. */
export type WeakModulus = 'prime' | 'square' | 'prime-power' | 'small-factor' | 'close-primes';

/** Primes below this bound are tried as factors (all at once, through one gcd). */
const SMALL_FACTOR_BOUND = 1 << 16;
/** Fermat steps: primes closer than about 28 * n^(1/4) (sqrt(8 * steps) * n^(1/4)) are found, as badkeys does. */
const FERMAT_STEPS = 100;

let smallPrimeProduct: bigint | undefined;

export function weakRsaModulus(n: bigint): WeakModulus | undefined {
  if (hasSmallFactor(n)) return 'small-factor';
  if (checkPrimeSync(n)) return 'prime';
  const root = isqrt(n);
  if (root * root === n) return 'square';
  // p^k for a prime k >= 3: p > 2^16 here (no small factor), so k < bits / 16.
  const bits = n.toString(2).length;
  for (let k = 3; k < bits / 16; k += 2) {
    if (!isOddPrime(k)) continue;
    const r = iroot(n, k);
    if (r ** BigInt(k) === n) return 'prime-power';
  }
  // Fermat: n = a^2 - b^2 = (a - b)(a + b), with a just above sqrt(n) when p and q are close.
  let a = root + 1n;
  for (let step = 0; step < FERMAT_STEPS; step++, a++) {
    const b2 = a * a - n;
    const b = isqrt(b2);
    if (b * b === b2) return 'close-primes';
  }
  return undefined;
}

function hasSmallFactor(n: bigint): boolean {
  smallPrimeProduct ??= productOfPrimesBelow(SMALL_FACTOR_BOUND);
  return gcd(n, smallPrimeProduct) !== 1n;
}

function productOfPrimesBelow(bound: number): bigint {
  const composite = new Uint8Array(bound);
  let product = 1n;
  for (let i = 2; i < bound; i++) {
    if (composite[i]) continue;
    product *= BigInt(i);
    for (let j = i * i; j < bound; j += i) composite[j] = 1;
  }
  return product;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function isOddPrime(k: number): boolean {
  for (let d = 3; d * d <= k; d += 2) if (k % d === 0) return false;
  return k > 2;
}

/** floor(n^(1/k)) for n >= 0, k >= 2, by Newton's method from a power of two above the root. */
export function iroot(n: bigint, k: number): bigint {
  if (n < 2n) return n;
  const K = BigInt(k);
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / k));
  for (;;) {
    const y = ((K - 1n) * x + n / x ** (K - 1n)) / K;
    if (y >= x) return x;
    x = y;
  }
}

/** floor(sqrt(n)) for n >= 0, by Newton's method from a power of two above the root. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
