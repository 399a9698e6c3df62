import { parseItem } from 'structured-headers';
import { IdempotencyException } from '../errors/idempotency.exception';
import { headerValues } from '../http/auth-request';

/** The header, lowercase as Node's rawHeaders are compared. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/**
 * The Idempotency-Key of a request per draft-ietf-httpapi-idempotency-key-header:
 * an RFC 8941 Item whose value is a String (`Idempotency-Key: "8e03978e-…"`),
 * parsed with structured-headers; parameters are ignored. Returns undefined when
 * the header is absent. Throws IDEMPOTENCY_KEY_INVALID for a second header line,
 * text that is not a structured-field String (a bare token or number included),
 * an empty string, or more than `maxLength` characters.
 */
export function readIdempotencyKey(rawHeaders: readonly string[], maxLength: number): string | undefined {
  const values = headerValues(rawHeaders, IDEMPOTENCY_KEY_HEADER);
  if (values.length === 0) return undefined;
  if (values.length > 1)
    throw new IdempotencyException('IDEMPOTENCY_KEY_INVALID', 'more than one header line');
  const text = values[0];
  // Quotes and escapes at most double the length: longer text cannot hold an acceptable key.
  if (text.length > 2 * maxLength + 1024) {
    throw new IdempotencyException('IDEMPOTENCY_KEY_INVALID', `header of ${text.length} characters`);
  }
  let value: unknown;
  try {
    [value] = parseItem(text);
  } catch {
    throw new IdempotencyException('IDEMPOTENCY_KEY_INVALID', 'not an RFC 8941 item');
  }
  if (typeof value !== 'string') {
    throw new IdempotencyException('IDEMPOTENCY_KEY_INVALID', 'not a structured-field String (unquoted?)');
  }
  if (value.length === 0 || value.length > maxLength) {
    throw new IdempotencyException('IDEMPOTENCY_KEY_INVALID', `key of ${value.length} characters`);
  }
  return value;
}
