/** Every failure of the HTTP signature core carries one of these codes. */
export const HTTP_SIGNATURE_ERROR_CODES = [
  /** Signature, Signature-Input, Authorization: Signature unparsable, over a limit, bad base64, duplicated label. */
  'MALFORMED_SIGNATURE',
  /** No signature matches the selection (none, or several when one was expected). */
  'SIGNATURE_NOT_FOUND',
  /** A covered component is absent from the message (field, query parameter, dictionary key, related request). */
  'SIGNATURE_COMPONENT_MISSING',
  /** A covered component or parameter this layer refuses (`;tr`, an unknown derived component or parameter). */
  'SIGNATURE_COMPONENT_UNSUPPORTED',
  /** A covered component is present but cannot be put into a base (not a structured field, control characters). */
  'SIGNATURE_COMPONENT_INVALID',
  /** A Cavage algorithm name that is unknown or does not fit the key's algorithm. */
  'SIGNATURE_ALGORITHM_UNSUPPORTED',
  /** The body does not match its digest. */
  'DIGEST_MISMATCH',
  /** No digest in an algorithm this library accepts (sha-256, sha-512). */
  'DIGEST_ALGORITHM_UNSUPPORTED',
  /** A Content-Digest or Digest field that cannot be parsed. */
  'DIGEST_MALFORMED',
] as const;

export type HttpSignatureErrorCode = (typeof HTTP_SIGNATURE_ERROR_CODES)[number];

/** The only error type that the HTTP signature core throws. Messages never contain raw input. */
export class HttpSignatureError extends Error {
  override readonly name = 'HttpSignatureError';

  constructor(
    readonly code: HttpSignatureErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isHttpSignatureError(error: unknown): error is HttpSignatureError {
  return error instanceof HttpSignatureError;
}

const MAX_QUOTED = 48;

/**
 * Renders untrusted input for an error message: truncated, JSON-quoted, and with
 * every character outside printable ASCII escaped, so that a log line cannot be
 * forged or broken by it.
 */
export function quoteInput(input: string): string {
  const short = input.length > MAX_QUOTED ? `${input.slice(0, MAX_QUOTED)}...` : input;
  return JSON.stringify(short).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
