import { HttpSignatureError, quoteInput } from '../http-signature.error';

/*
 * RFC 9421 §2.2.8: parse the query as application/x-www-form-urlencoded (URL
 * Standard §5.1), then re-encode name and value with the form-urlencoded
 * percent-encode set, a space becoming %20. URLSearchParams would parse, but it
 * re-serializes a space as "+" and leaves no way to see repeated names the same
 * way, and decodeURIComponent throws on malformed input; so both steps are here.
 */

const HEX = '0123456789ABCDEF';

/** Bytes left as they are by the form-urlencoded percent-encode set: ASCII alphanumerics and *-._ */
function isUnreserved(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    b === 0x2a ||
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** URL Standard "percent-decode" after "+" → space; then UTF-8 decode with replacement, then re-encode. */
function reencode(component: string): string {
  // Fast path: nothing to decode and nothing to encode.
  let plain = true;
  for (let i = 0; i < component.length; i++) {
    if (!isUnreserved(component.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return component;

  const bytes: number[] = [];
  for (let i = 0; i < component.length; i++) {
    const c = component.charCodeAt(i);
    if (c === 0x2b /* + */) {
      bytes.push(0x20);
    } else if (c === 0x25 /* % */ && i + 2 < component.length) {
      const hi = hexValue(component.charCodeAt(i + 1));
      const lo = hexValue(component.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes.push(hi * 16 + lo);
        i += 2;
      } else {
        bytes.push(c);
      }
    } else {
      bytes.push(c);
    }
  }
  // Buffer's UTF-8 decoder replaces invalid sequences with U+FFFD like the URL Standard's.
  const decoded = Buffer.from(bytes).toString('utf8');
  const utf8 = Buffer.from(decoded, 'utf8');
  let out = '';
  for (const b of utf8) {
    out += isUnreserved(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/**
 * The value of `"@query-param";name="…"` for a query string (without "?").
 * Throws when the parameter is absent or appears more than once (§2.2.8: a
 * repeated parameter must not be covered; cover @query instead).
 */
export function queryParamValue(query: string, name: string): string {
  let found: string | undefined;
  let start = 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    if (end > start) {
      const eq = query.indexOf('=', start);
      const split = eq !== -1 && eq < end;
      const rawName = query.slice(start, split ? eq : end);
      if (reencode(rawName) === name) {
        if (found !== undefined) {
          throw new HttpSignatureError(
            'SIGNATURE_COMPONENT_INVALID',
            `query parameter ${quoteInput(name)} occurs more than once and cannot be covered by @query-param`,
          );
        }
        found = split ? reencode(query.slice(eq + 1, end)) : '';
      }
    }
    start = end + 1;
  }
  if (found === undefined) {
    throw new HttpSignatureError(
      'SIGNATURE_COMPONENT_MISSING',
      `query parameter ${quoteInput(name)} is absent`,
    );
  }
  return found;
}
