import { InvalidArgumentError } from 'commander';
import { isKeyAlgorithm, KEY_ALGORITHMS, KeyAlgorithm } from '../keys/key-algorithm';

/** `--roles a,b` → ['a', 'b'] (blanks dropped). */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `--alg NAME`: one of the key algorithms, or a usage error listing them. */
export function keyAlgorithmArgument(value: string): KeyAlgorithm {
  if (!isKeyAlgorithm(value)) throw new InvalidArgumentError(`one of ${KEY_ALGORITHMS.join(', ')}`);
  return value;
}
