import type { AuthErrorCode } from '../errors/auth-error-codes';
import { authError, KeypairAuthException } from '../errors/keypair-auth.exception';
import { HttpSignatureError, HttpSignatureErrorCode } from '../http-signatures';

const MAP: Record<HttpSignatureErrorCode, AuthErrorCode> = {
  MALFORMED_SIGNATURE: 'MALFORMED_CREDENTIALS',
  SIGNATURE_NOT_FOUND: 'SIGNATURE_NOT_FOUND',
  SIGNATURE_COMPONENT_MISSING: 'SIGNATURE_COMPONENT_INVALID',
  SIGNATURE_COMPONENT_UNSUPPORTED: 'SIGNATURE_COMPONENT_INVALID',
  SIGNATURE_COMPONENT_INVALID: 'SIGNATURE_COMPONENT_INVALID',
  SIGNATURE_ALGORITHM_UNSUPPORTED: 'ALGORITHM_NOT_ALLOWED',
  DIGEST_MISMATCH: 'DIGEST_MISMATCH',
  DIGEST_ALGORITHM_UNSUPPORTED: 'DIGEST_ALGORITHM_UNSUPPORTED',
  DIGEST_MALFORMED: 'MALFORMED_CREDENTIALS',
};

/** Runs a call into the signature core, turning its errors into coded auth errors. */
export function core<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof HttpSignatureError)
      throw authError(MAP[error.code], `${error.code}: ${error.message}`);
    if (error instanceof KeypairAuthException) throw error;
    throw authError(
      'MALFORMED_CREDENTIALS',
      `signature core: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
