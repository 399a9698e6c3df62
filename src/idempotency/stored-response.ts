import { HttpException } from '@nestjs/common';
import { idempotencyErrorBody } from '../errors/idempotency.exception';
import { setResponseHeader, setResponseStatus } from '../http/response-headers';
import type { StoredResponse } from './idempotency-store.interface';

/**
 * Response headers kept and replayed: the ones that describe the result. Never
 * Set-Cookie, signatures (bound to the first exchange), framing or hop-by-hop fields.
 */
export const REPLAYED_HEADERS: readonly string[] = [
  'content-type',
  'content-language',
  'location',
  'content-location',
  'etag',
  'last-modified',
  'link',
];

/** The header that marks a replayed response. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

interface ResponseLike {
  statusCode?: number;
  getHeaders?: () => Record<string, unknown>;
}

function replayedHeaders(res: unknown): Record<string, string> {
  const all = (res as ResponseLike).getHeaders?.() ?? {};
  const kept: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = all[name];
    if (typeof value === 'string' || typeof value === 'number') kept[name] = String(value);
    else if (Array.isArray(value)) kept[name] = value.map(String).join(', ');
  }
  return kept;
}

function isStreamLike(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return (
    Buffer.isBuffer(value) ||
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    typeof (value as { pipe?: unknown }).pipe === 'function' ||
    typeof (value as { getStream?: unknown }).getStream === 'function' ||
    typeof (value as { subscribe?: unknown }).subscribe === 'function'
  );
}

/** JSON text of `value` within `maxBytes`, null for no body, undefined when it cannot be kept. */
function jsonBody(value: unknown, maxBytes: number): string | null | undefined {
  if (value === undefined || value === null) return null;
  if (isStreamLike(value)) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return undefined;
  }
  if (text === undefined || Buffer.byteLength(text) > maxBytes) return undefined;
  return text;
}

/** What is kept in place of a response that cannot be: replays answer 500 IDEMPOTENCY_RESPONSE_NOT_STORED. */
export function notStoredResponse(): StoredResponse {
  const body = idempotencyErrorBody('IDEMPOTENCY_RESPONSE_NOT_STORED');
  return { status: body.statusCode, headers: {}, body: JSON.stringify(body) };
}

/** A handler's result as it is being sent: the status already on the response, the kept headers, JSON. */
export function captureResult(res: unknown, value: unknown, maxBytes: number): StoredResponse | undefined {
  const body = jsonBody(value, maxBytes);
  if (body === undefined) return undefined;
  return { status: (res as ResponseLike).statusCode ?? 200, headers: replayedHeaders(res), body };
}

/** A 4xx HttpException as Nest's exception filter sends it. */
export function captureError(
  res: unknown,
  error: HttpException,
  maxBytes: number,
): StoredResponse | undefined {
  const status = error.getStatus();
  const response = error.getResponse();
  const sent =
    typeof response === 'object' && response !== null ? response : { statusCode: status, message: response };
  const body = jsonBody(sent, maxBytes);
  if (body === undefined || body === null) return undefined;
  return { status, headers: replayedHeaders(res), body };
}

/**
 * Sends a stored response again: the status, the kept headers and
 * `Idempotent-Replayed: true`, then the body. Stored errors are thrown again as an
 * HttpException with the stored body, so the app's exception filters send them the
 * way they sent the first one. Returns the value for Nest to serialize.
 */
export function replayResponse(res: unknown, stored: StoredResponse): unknown {
  for (const [name, value] of Object.entries(stored.headers)) setResponseHeader(res, name, value);
  setResponseHeader(res, IDEMPOTENT_REPLAYED_HEADER, 'true');
  const body: unknown = stored.body === null ? undefined : JSON.parse(stored.body);
  if (stored.status >= 400) throw new HttpException(body as Record<string, unknown>, stored.status);
  setResponseStatus(res, stored.status);
  return body;
}
