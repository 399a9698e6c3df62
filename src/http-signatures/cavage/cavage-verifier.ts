import type { KeyObject } from 'node:crypto';
import { verifyWithAlgorithm, type KeyAlgorithm } from '../../keys/key-algorithm';
import type { HttpMessageView } from '../http-message';
import { resolveCavageAlgorithm } from './cavage-algorithm';
import type { CavageSignatureParams } from './cavage-header.parser';
import { ecdsaDerToP1363 } from './ecdsa-signature';
import { buildCavageSigningString, type CavageSigningStringOptions } from './signing-string';

export interface CavageVerifyOptions extends CavageSigningStringOptions {
  readonly key: KeyObject;
  /** The algorithm registered for the key; the algorithm parameter must agree with it. */
  readonly keyAlgorithm: KeyAlgorithm;
  /** The key was registered without an algorithm: rsa-sha256 and rsa-sha512 both fit it. */
  readonly rsaFamily?: boolean;
}

const ECDSA_SIZE: Partial<Record<KeyAlgorithm, number>> = {
  'ecdsa-p256-sha256': 32,
  'ecdsa-p384-sha384': 48,
};

/** Verifies raw signature bytes over a signing string, accepting both ECDSA encodings. */
export function verifyCavageBytes(
  algorithm: KeyAlgorithm,
  key: KeyObject,
  data: Buffer,
  signature: Buffer,
): boolean {
  const size = ECDSA_SIZE[algorithm];
  if (size === undefined) return verifyWithAlgorithm(algorithm, key, data, signature);
  if (signature.length === size * 2 && verifyWithAlgorithm(algorithm, key, data, signature)) return true;
  const p1363 = ecdsaDerToP1363(signature, size);
  return p1363 !== undefined && verifyWithAlgorithm(algorithm, key, data, p1363);
}

/**
 * Verifies a parsed Cavage signature against the request. Throws
 * HttpSignatureError when the signing string cannot be built or the algorithm
 * parameter does not fit the key; returns false for a wrong signature. Time
 * window and required headers are the caller's policy.
 */
export function verifyCavageSignature(
  view: HttpMessageView,
  params: CavageSignatureParams,
  options: CavageVerifyOptions,
): boolean {
  const algorithm = resolveCavageAlgorithm(params.algorithm, options.keyAlgorithm, options.rsaFamily);
  const data = Buffer.from(buildCavageSigningString(view, params, options), 'latin1');
  return verifyCavageBytes(algorithm, options.key, data, params.signature);
}
