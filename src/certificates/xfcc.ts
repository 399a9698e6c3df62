import { CertificateError, quoteForMessage } from './certificate-error';

/**
 * Parser for Envoy's x-forwarded-client-cert (XFCC) header. Hand-written
 * because no maintained library parses it, and splitting on "," and ";" is
 * wrong: quoted values (Subject="CN=a\, b", Cert="...") contain both.
 *
 * Grammar, from Envoy's documentation (configuration/http/http_conn_man/headers):
 *
 *   xfcc     = element *( "," element )
 *   element  = pair *( ";" pair )
 *   pair     = key "=" value
 *   key      = 1*( ALPHA / DIGIT / "-" / "_" )        ; case-insensitive
 *   value    = quoted / *unquoted-char
 *   quoted   = DQUOTE *( qchar / "\" VCHAR ) DQUOTE
 *
 * Decisions:
 * - No whitespace around "," ";" "=": Envoy never emits it, so it means another producer.
 * - Unquoted values may contain "=" (Envoy writes URI SANs such as
 *   `https://x/?a=b` unquoted); they may not contain "," ";" or DQUOTE.
 * - Inside quotes `\"` and `\\` are escapes; a backslash before any other
 *   character is kept literally, because Envoy copies an RFC 2253 Subject
 *   (`CN=a\, b`) into the quotes unchanged. Framing is still unambiguous.
 * - Known single-valued keys (Hash, Cert, Chain, Subject) may not repeat within
 *   an element; By, URI and DNS may. Unknown keys are kept (forward compatibility).
 */

export interface XfccElement {
  /** Keys lowercased; values in order of appearance. */
  readonly pairs: ReadonlyMap<string, readonly string[]>;
}

export const MAX_XFCC_ELEMENTS = 16;
const SINGLE_VALUED = new Set(['hash', 'cert', 'chain', 'subject']);
const KEY_CHAR = /[A-Za-z0-9_-]/;

function malformed(message: string): CertificateError {
  return new CertificateError('CERT_HEADER_MALFORMED', `x-forwarded-client-cert: ${message}`);
}

export function parseXfcc(value: string): XfccElement[] {
  if (typeof value !== 'string' || value.length === 0) throw malformed('empty value');
  const elements: XfccElement[] = [];
  let pairs = new Map<string, string[]>();
  let pos = 0;

  for (;;) {
    // key
    const keyStart = pos;
    while (pos < value.length && KEY_CHAR.test(value[pos])) pos++;
    if (pos === keyStart) throw malformed(`expected a key at offset ${pos}`);
    const key = value.slice(keyStart, pos).toLowerCase();
    if (value[pos] !== '=') throw malformed(`expected "=" after key at offset ${pos}`);
    pos++;

    // value
    let parsed = '';
    if (value[pos] === '"') {
      pos++;
      let closed = false;
      while (pos < value.length) {
        const ch = value[pos];
        if (ch === '"') {
          closed = true;
          pos++;
          break;
        }
        if (ch === '\\') {
          const next = value[pos + 1];
          if (next === undefined) break;
          parsed += next === '"' || next === '\\' ? next : `\\${next}`;
          pos += 2;
          continue;
        }
        parsed += ch;
        pos++;
      }
      if (!closed) throw malformed('unterminated quoted value');
    } else {
      const start = pos;
      while (pos < value.length && value[pos] !== ',' && value[pos] !== ';') {
        const ch = value[pos];
        if (ch === '"' || ch === '\\') throw malformed(`unexpected ${quoteForMessage(ch)} in unquoted value`);
        pos++;
      }
      parsed = value.slice(start, pos);
    }

    const existing = pairs.get(key);
    if (existing !== undefined) {
      if (SINGLE_VALUED.has(key)) throw malformed(`key ${quoteForMessage(key)} repeats within an element`);
      existing.push(parsed);
    } else {
      pairs.set(key, [parsed]);
    }

    if (pos === value.length) {
      elements.push({ pairs });
      return elements;
    }
    const separator = value[pos];
    pos++;
    if (separator === ',') {
      elements.push({ pairs });
      if (elements.length >= MAX_XFCC_ELEMENTS) throw malformed(`more than ${MAX_XFCC_ELEMENTS} elements`);
      pairs = new Map();
    } else if (separator !== ';') {
      throw malformed(`unexpected character after quoted value at offset ${pos - 1}`);
    }
    if (pos === value.length) throw malformed('trailing separator');
  }
}

/** The single value of a key in an element, or undefined when absent. */
export function xfccValue(element: XfccElement, key: string): string | undefined {
  return element.pairs.get(key.toLowerCase())?.[0];
}

/**
 * Serialises one element the way Envoy does (quoting values that contain
 * separators or quotes). For tests and proxy simulators.
 */
export function formatXfccElement(pairs: readonly (readonly [string, string])[]): string {
  return pairs
    .map(([key, value]) =>
      /[,;="\\]/.test(value) || key.toLowerCase() === 'cert' || key.toLowerCase() === 'chain'
        ? `${key}="${value.replace(/["\\]/g, (c) => `\\${c}`)}"`
        : `${key}=${value}`,
    )
    .join(';');
}
