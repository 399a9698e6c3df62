/**
 * Every failure of the certificate core surfaces as one CertificateError with a
 * stable code, so a strategy can map codes to HTTP statuses and log lines
 * without parsing messages. Messages are written by us: they never contain
 * attacker-controlled text except through `quoteForMessage`, which truncates
 * and escapes it.
 */
export const CERTIFICATE_ERROR_CODES = [
  /** A forwarded header does not match the configured format (bad encoding, junk, too large, too many certs). */
  'CERT_HEADER_MALFORMED',
  /** A header that must occur once arrived on more than one line. */
  'CERT_HEADER_DUPLICATED',
  /** No client certificate: header absent or empty, proxy said NONE/(null). */
  'CERT_MISSING',
  /** The proxy said it verified the certificate and verification failed (FAILED:reason, GENEROUS). */
  'CERT_VERIFY_FAILED',
  /** No path from the leaf to a configured trust anchor, or a CA constraint is violated. */
  'CERT_UNTRUSTED',
  'CERT_EXPIRED',
  'CERT_NOT_YET_VALID',
  /** The leaf's extended key usage lacks clientAuth (or its key usage forbids signing). */
  'CERT_EKU_MISSING',
  'CERT_REVOKED',
  /** A CRL that covers the certificate cannot be used now (expired nextUpdate, thisUpdate in the future). */
  'CERT_REVOCATION_UNKNOWN',
  /** A CRL file is malformed, not signed by a configured CA, or uses features this code does not process. */
  'CERT_CRL_INVALID',
  /** DN string does not parse, subject/SAN not usable for identity, not exactly one CN. */
  'CERT_SUBJECT_INVALID',
  /** Invalid options, CA bundle or serial-number input given by the application (not by a client). */
  'CERT_CONFIG_INVALID',
  /** A local CA operation failed (files, openssl). */
  'CERT_CA_OPERATION_FAILED',
] as const;

export type CertificateErrorCode = (typeof CERTIFICATE_ERROR_CODES)[number];

export class CertificateError extends Error {
  override readonly name = 'CertificateError';

  constructor(
    readonly code: CertificateErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isCertificateError(value: unknown, code?: CertificateErrorCode): value is CertificateError {
  return value instanceof CertificateError && (code === undefined || value.code === code);
}

/**
 * Renders untrusted text for an error message: at most `max` characters, as a
 * JSON string literal with everything outside printable ASCII escaped, so a
 * value cannot forge log lines, terminal escapes or bidi tricks.
 */
export function quoteForMessage(value: string, max = 40): string {
  // Slice first so a 16 KB header is not split into code points just to show 40 of them.
  const chars = Array.from(value.slice(0, max * 2));
  const truncated = chars.length > max || value.length > max * 2;
  let out = '"';
  for (const ch of chars.slice(0, max)) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code >= 0x20 && code <= 0x7e) out += ch;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\u{${code.toString(16)}}`;
  }
  return truncated ? `${out}"...` : `${out}"`;
}

/**
 * Runs `fn` and converts anything that is not already a CertificateError into
 * one with the given code. Parsers use it so that library errors (Node's X509
 * constructor, structured-headers, RangeError from a Buffer) never escape with
 * their own type or with a message that may quote the input.
 */
export function withCertificateErrors<T>(code: CertificateErrorCode, message: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    throw new CertificateError(code, message, { cause: error });
  }
}

/** Async form of withCertificateErrors. */
export async function withCertificateErrorsAsync<T>(
  code: CertificateErrorCode,
  message: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    throw new CertificateError(code, message, { cause: error });
  }
}
