import { CertificateError, quoteForMessage, withCertificateErrors } from './certificate-error';
import { collectHeaderLines, DEFAULT_MAX_HEADER_LENGTH, singleHeaderValue } from './header-lines';

/**
 * The verification result a TLS-terminating proxy forwards next to the
 * certificate: nginx `$ssl_client_verify`, Apache `%{SSL_CLIENT_VERIFY}s`,
 * HAProxy `%[ssl_c_verify]` (syntax `haproxy`).
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

/**
 * How the verdict is written: `text` (nginx, Apache: SUCCESS, NONE, FAILED:reason) or
 * `haproxy` (HAProxy `%[ssl_c_verify]`: 0 when OpenSSL reported no error, else the
 * X509 verify error code as a decimal integer).
 */
export type VerifyStatusSyntax = 'text' | 'haproxy';
export const VERIFY_STATUS_SYNTAXES: readonly VerifyStatusSyntax[] = ['text', 'haproxy'];

/**
 * HAProxy's ssl_c_verify, read strictly: exactly "0" is success; a non-zero decimal
 * integer of at most 9 digits without a leading zero is a refusal with that code
 * (OpenSSL's codes are below 100). Anything else, "00", "+0", "-0", "0x0", " 0 0",
 * a number that could wrap around to 0 in a loose reader, is malformed: HAProxy never
 * writes it, so it did not come from HAProxy. Empty is what HAProxy sends when the
 * sample is unavailable (no TLS on that connection): no verdict, as nginx's empty value.
 * Leading and trailing spaces are HTTP whitespace around the value, never part of it
 * (RFC 9110 §5.5; Node drops them before we see the header).
 */
const HAPROXY_VERIFY_ERROR = /^[1-9][0-9]{0,8}$/;

function haproxyVerifyStatus(value: string, headerName: string): ClientVerifyStatus {
  if (value === '0') return { outcome: 'success' };
  if (value === '') return { outcome: 'empty' };
  if (HAPROXY_VERIFY_ERROR.test(value)) return { outcome: 'failed', reason: `ssl_c_verify=${value}` };
  throw new CertificateError(
    'CERT_HEADER_MALFORMED',
    `header ${headerName} has ${quoteForMessage(value)}, not an HAProxy ssl_c_verify code (0 or a positive integer)`,
  );
}

/** Implementation of parseClientVerifyLines, without the error conversion. */
function verifyStatusFromLines(
  lines: readonly string[],
  headerName = DEFAULT_VERIFY_HEADER,
  syntax: VerifyStatusSyntax = 'text',
): ClientVerifyStatus {
  const value = singleHeaderValue(lines, headerName, DEFAULT_MAX_HEADER_LENGTH);
  if (value === undefined) return { outcome: 'absent' };
  if (syntax === 'haproxy') return haproxyVerifyStatus(value, headerName);
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
  syntax: VerifyStatusSyntax = 'text',
): ClientVerifyStatus {
  return withCertificateErrors('CERT_HEADER_MALFORMED', 'verification status header is malformed', () =>
    verifyStatusFromLines(lines, headerName, syntax),
  );
}

/** Reads the status header from Node's rawHeaders. */
export function parseClientVerifyStatus(
  rawHeaders: readonly string[],
  headerName = DEFAULT_VERIFY_HEADER,
  syntax: VerifyStatusSyntax = 'text',
): ClientVerifyStatus {
  return withCertificateErrors('CERT_HEADER_MALFORMED', 'verification status header is malformed', () =>
    verifyStatusFromLines(collectHeaderLines(rawHeaders, headerName), headerName, syntax),
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
