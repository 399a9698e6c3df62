import { CertificateError, quoteForMessage, withCertificateErrors } from './certificate-error';
import { collectHeaderLines, DEFAULT_MAX_HEADER_LENGTH, singleHeaderValue } from './header-lines';

/**
 * The verification result a TLS-terminating proxy forwards next to the
 * certificate: nginx `$ssl_client_verify`, Apache `%{SSL_CLIENT_VERIFY}s`.
 * Each situation keeps its own outcome so that logs can tell "no certificate"
 * from "certificate refused" from "the proxy is not sending the header".
 */
export type ClientVerifyStatus =
  /** SUCCESS: the proxy verified the client certificate. */
  | { readonly outcome: 'success' }
  /** NONE: the client presented no certificate. */
  | { readonly outcome: 'none' }
  /** FAILED:reason: a certificate was presented and refused (reason as sent, printable ASCII). */
  | { readonly outcome: 'failed'; readonly reason: string }
  /** GENEROUS (Apache, SSLVerifyClient optional_no_ca): presented but not verified. */
  | { readonly outcome: 'generous' }
  /** "(null)": Apache mod_headers could not read the variable (no TLS on that connection). */
  | { readonly outcome: 'unavailable' }
  /** Header present but empty: nginx on a plain-HTTP connection. */
  | { readonly outcome: 'empty' }
  /** Header not present at all: the proxy is not configured to send it, or the request bypassed it. */
  | { readonly outcome: 'absent' };

export type ClientVerifyOutcome = ClientVerifyStatus['outcome'];

export const DEFAULT_VERIFY_HEADER = 'x-ssl-client-verify';
const MAX_REASON_LENGTH = 256;

/** Implementation of parseClientVerifyLines, without the error conversion. */
function verifyStatusFromLines(
  lines: readonly string[],
  headerName = DEFAULT_VERIFY_HEADER,
): ClientVerifyStatus {
  const value = singleHeaderValue(lines, headerName, DEFAULT_MAX_HEADER_LENGTH);
  if (value === undefined) return { outcome: 'absent' };
  switch (value) {
    case 'SUCCESS':
      return { outcome: 'success' };
    case 'NONE':
      return { outcome: 'none' };
    case 'GENEROUS':
      return { outcome: 'generous' };
    case '(null)':
      return { outcome: 'unavailable' };
    case '':
      return { outcome: 'empty' };
  }
  if (value.startsWith('FAILED:')) {
    const reason = value.slice('FAILED:'.length);
    if (reason.length > MAX_REASON_LENGTH) {
      throw new CertificateError(
        'CERT_HEADER_MALFORMED',
        `header ${headerName} has an overlong failure reason`,
      );
    }
    return { outcome: 'failed', reason };
  }
  // Values are case-sensitive: "success" or "Success" is not what nginx/Apache send.
  throw new CertificateError(
    'CERT_HEADER_MALFORMED',
    `header ${headerName} has an unknown value ${quoteForMessage(value)}`,
  );
}

/** Maps the header lines (from rawHeaders) to an outcome; more than one line is an error. */
export function parseClientVerifyLines(
  lines: readonly string[],
  headerName = DEFAULT_VERIFY_HEADER,
): ClientVerifyStatus {
  return withCertificateErrors('CERT_HEADER_MALFORMED', 'verification status header is malformed', () =>
    verifyStatusFromLines(lines, headerName),
  );
}

/** Reads the status header from Node's rawHeaders. */
export function parseClientVerifyStatus(
  rawHeaders: readonly string[],
  headerName = DEFAULT_VERIFY_HEADER,
): ClientVerifyStatus {
  return withCertificateErrors('CERT_HEADER_MALFORMED', 'verification status header is malformed', () =>
    verifyStatusFromLines(collectHeaderLines(rawHeaders, headerName), headerName),
  );
}

/**
 * Throws unless the proxy reported SUCCESS: CERT_MISSING when there is no
 * certificate (none, empty, unavailable, absent), CERT_VERIFY_FAILED when one
 * was presented and not verified (failed, generous).
 */
export function assertClientVerified(status: ClientVerifyStatus): void {
  switch (status.outcome) {
    case 'success':
      return;
    case 'failed':
      throw new CertificateError(
        'CERT_VERIFY_FAILED',
        `proxy reports client certificate verification failed: ${quoteForMessage(status.reason, 80)}`,
      );
    case 'generous':
      throw new CertificateError(
        'CERT_VERIFY_FAILED',
        'proxy accepted the client certificate without verifying it',
      );
    case 'none':
      throw new CertificateError('CERT_MISSING', 'proxy reports that no client certificate was presented');
    case 'empty':
      throw new CertificateError('CERT_MISSING', 'proxy sent an empty verification status (no TLS?)');
    case 'unavailable':
      throw new CertificateError(
        'CERT_MISSING',
        'proxy could not read the TLS verification status ("(null)")',
      );
    case 'absent':
      throw new CertificateError('CERT_MISSING', 'verification status header is absent');
  }
}
