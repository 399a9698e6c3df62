import { CertificateError, CertificateErrorCode, isCertificateError } from '../certificates';
import type { AuthErrorCode } from '../errors/auth-error-codes';
import { authError, KeypairAuthException } from '../errors/keypair-auth.exception';

/**
 * The certificate core's codes as the client sees them. Most keep their name;
 * the core's configuration and CA codes can only come from a server-side
 * mistake, so the client gets the generic AUTHENTICATION_FAILED (and the log
 * the reason).
 */
const AUTH_CODE: Readonly<Record<CertificateErrorCode, AuthErrorCode>> = {
  CERT_HEADER_MALFORMED: 'CERT_HEADER_MALFORMED',
  CERT_HEADER_DUPLICATED: 'CERT_HEADER_DUPLICATED',
  CERT_MISSING: 'CERT_MISSING',
  CERT_VERIFY_FAILED: 'CERT_VERIFY_FAILED',
  CERT_UNTRUSTED: 'CERT_UNTRUSTED',
  CERT_EXPIRED: 'CERT_EXPIRED',
  CERT_NOT_YET_VALID: 'CERT_NOT_YET_VALID',
  CERT_EKU_MISSING: 'CERT_EKU_MISSING',
  CERT_REVOKED: 'CERT_REVOKED',
  CERT_REVOCATION_UNKNOWN: 'CERT_REVOCATION_UNKNOWN',
  CERT_SUBJECT_INVALID: 'CERT_SUBJECT_INVALID',
  CERT_CRL_INVALID: 'AUTHENTICATION_FAILED',
  CERT_CONFIG_INVALID: 'AUTHENTICATION_FAILED',
  CERT_CA_OPERATION_FAILED: 'AUTHENTICATION_FAILED',
};

/** A CertificateError as a KeypairAuthException (the core's message becomes the logged reason). */
export function toAuthException(error: CertificateError): KeypairAuthException {
  return authError(AUTH_CODE[error.code], `${error.code}: ${error.message}`);
}

/** Runs `fn`, turning CertificateErrors into auth exceptions; anything else passes through. */
export function withAuthErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (isCertificateError(error)) throw toAuthException(error);
    throw error;
  }
}
