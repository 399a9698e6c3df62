import type { HttpMessageView } from '../http-message';
import type { Rfc9421Signature } from './rfc9421.types';
import { buildSignatureBase } from './signature-base';

/** Checks raw signature bytes over a base; must return false, not throw, for a bad signature. */
export type SignatureVerifier = (base: Buffer, signature: Buffer) => boolean;

/**
 * Rebuilds the base of one parsed signature and hands it to the verifier. Throws
 * HttpSignatureError when the base cannot be built (a covered component is
 * missing or unusable); returns the verifier's answer otherwise. Time window,
 * required components, key and algorithm choice are the caller's policy.
 */
export function verifyRfc9421Signature(
  view: HttpMessageView,
  entry: Rfc9421Signature,
  verify: SignatureVerifier,
  related?: HttpMessageView,
): boolean {
  return verify(buildSignatureBase(view, entry, related), entry.signature) === true;
}
