import { CertificateError } from './certificate-error';

/** Default cap for one forwarded header line (Node's own default for all headers together is 16 KB). */
export const DEFAULT_MAX_HEADER_LENGTH = 16 * 1024;

/**
 * Collects the values of one header from Node's `rawHeaders` ([name, value,
 * name, value, ...]), comparing names case-insensitively. Working from
 * rawHeaders instead of `req.headers` keeps duplicates visible: Node joins
 * most duplicated headers with ", " and silently drops others.
 */
export function collectHeaderLines(rawHeaders: readonly string[], name: string): string[] {
  if (!Array.isArray(rawHeaders) || rawHeaders.length % 2 !== 0) {
    throw new CertificateError('CERT_HEADER_MALFORMED', 'rawHeaders must be a flat [name, value, ...] list');
  }
  const wanted = name.toLowerCase();
  const lines: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const headerName = rawHeaders[i];
    const value = rawHeaders[i + 1];
    if (typeof headerName !== 'string' || typeof value !== 'string') {
      throw new CertificateError('CERT_HEADER_MALFORMED', 'rawHeaders must contain strings only');
    }
    if (headerName.toLowerCase() === wanted) lines.push(value);
  }
  return lines;
}

/**
 * Returns the only line of a header that must not repeat, or undefined when it
 * is absent. Leading/trailing SP and HTAB are removed (HTTP OWS); Node already
 * does this, other frameworks may not. Characters outside visible ASCII and SP
 * are refused: every format handled here is ASCII, and Node hands header bytes
 * over as latin1.
 */
export function singleHeaderValue(
  lines: readonly string[],
  headerName: string,
  maxLength: number,
): string | undefined {
  if (lines.length === 0) return undefined;
  if (lines.length > 1) {
    throw new CertificateError(
      'CERT_HEADER_DUPLICATED',
      `header ${headerName} occurs on ${lines.length} lines`,
    );
  }
  return checkedHeaderValue(lines[0], headerName, maxLength);
}

export function checkedHeaderValue(line: string, headerName: string, maxLength: number): string {
  if (typeof line !== 'string')
    throw new CertificateError('CERT_HEADER_MALFORMED', `header ${headerName} is not text`);
  if (line.length > maxLength) {
    throw new CertificateError(
      'CERT_HEADER_MALFORMED',
      `header ${headerName} exceeds ${maxLength} characters`,
    );
  }
  const value = line.replace(/^[ \t]+|[ \t]+$/g, '');
  if (!/^[\x20-\x7e]*$/.test(value)) {
    throw new CertificateError(
      'CERT_HEADER_MALFORMED',
      `header ${headerName} contains non-ASCII or control characters`,
    );
  }
  return value;
}
