import { parseDictionary, type Dictionary } from 'structured-headers';

/** One member of a dictionary as it appears in the field value. */
export interface RawDictionaryMember {
  readonly key: string;
  /** The member value exactly as received (after "="), OWS-trimmed; '' for a bare key. */
  readonly raw: string;
}

/** A dictionary parsed by structured-headers plus the raw text of each member, in order. */
export interface ScannedDictionary {
  readonly parsed: Dictionary;
  /** Every member in received order, duplicates included (the parsed Map keeps only the last). */
  readonly members: readonly RawDictionaryMember[];
}

/**
 * Parses an RFC 8941 dictionary with structured-headers and, in the same pass over
 * the text, records each member's key and raw value. structured-headers silently
 * lets a repeated key win; the raw members let callers refuse duplicates, and
 * RFC 9421 needs the received bytes of each inner list for @signature-params.
 * Returns undefined when the value is not a dictionary.
 */
export function scanDictionary(input: string): ScannedDictionary | undefined {
  let parsed: Dictionary;
  try {
    parsed = parseDictionary(input);
  } catch {
    return undefined;
  }
  // The text parsed, so the only top-level commas are member separators.
  const members: RawDictionaryMember[] = [];
  let start = 0;
  let i = 0;
  const n = input.length;
  while (i < n) {
    const skipped = skipOpaque(input, i);
    if (skipped !== -1) {
      i = skipped;
      continue;
    }
    if (input.charCodeAt(i) === 0x2c /* , */) {
      members.push(member(input, start, i));
      start = i + 1;
    }
    i++;
  }
  if (n > 0) members.push(member(input, start, n));
  return { parsed, members };
}

/**
 * When a string, display string or byte sequence starts at `i` of valid
 * structured-field text, the index just after it; otherwise -1. Those are the
 * only places where "," ";" "(" may appear without their structural meaning.
 * ":" and "%" also occur inside tokens (a:b, 50%), so they open a value only
 * where a bare item can start: after "=", "(", a space, or at the beginning.
 */
function skipOpaque(input: string, i: number): number {
  const c = input.charCodeAt(i);
  if (c === 0x22 /* " */) return skipString(input, i + 1);
  if (c !== 0x3a /* : */ && !(c === 0x25 /* % */ && input.charCodeAt(i + 1) === 0x22)) return -1;
  const before = i === 0 ? 0x3d : input.charCodeAt(i - 1);
  if (before !== 0x3d /* = */ && before !== 0x28 /* ( */ && before !== 0x20 && before !== 0x09) return -1;
  // Neither base64 nor a display string (no escapes there) can hold the closing character.
  const end = c === 0x3a ? input.indexOf(':', i + 1) : input.indexOf('"', i + 2);
  return end === -1 ? input.length : end + 1;
}

/** The index after the closing quote of a string whose content starts at `from`. */
function skipString(input: string, from: number): number {
  let i = from;
  for (;;) {
    const quote = input.indexOf('"', i);
    if (quote === -1) return input.length;
    const backslash = input.indexOf('\\', i);
    if (backslash === -1 || backslash > quote) return quote + 1;
    i = backslash + 2;
  }
}

function member(input: string, from: number, to: number): RawDictionaryMember {
  let s = from;
  let e = to;
  while (s < e && isOws(input.charCodeAt(s))) s++;
  while (e > s && isOws(input.charCodeAt(e - 1))) e--;
  let k = s;
  while (k < e) {
    const c = input.charCodeAt(k);
    if (c === 0x3d /* = */ || c === 0x3b /* ; */) break;
    k++;
  }
  const key = input.slice(s, k);
  const raw = k < e && input.charCodeAt(k) === 0x3d ? input.slice(k + 1, e) : '';
  return { key, raw };
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Counts the parameters written in an inner list's raw text: those on its items
 * and those on the list itself. Compared with the parsed Maps it reveals a
 * repeated parameter key, which structured-headers collapses into the last value.
 */
export function countInnerListParameters(raw: string): { items: number; list: number } {
  let depth = 0;
  let items = 0;
  let list = 0;
  let i = 0;
  while (i < raw.length) {
    const skipped = skipOpaque(raw, i);
    if (skipped !== -1) {
      i = skipped;
      continue;
    }
    const c = raw.charCodeAt(i);
    if (c === 0x28 /* ( */) depth++;
    else if (c === 0x29 /* ) */) depth--;
    else if (c === 0x3b /* ; */) {
      if (depth > 0) items++;
      else list++;
    }
    i++;
  }
  return { items, list };
}

const SF_STRING_CHARS = /^[\x20-\x7e]*$/;

/** True when the value can be an sf-string (printable ASCII). */
export function isSfStringSafe(value: string): boolean {
  return SF_STRING_CHARS.test(value);
}

/** Serializes an sf-string; the caller has checked isSfStringSafe. */
export function serializeSfString(value: string): string {
  let needsEscape = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      needsEscape = true;
      break;
    }
  }
  return needsEscape ? `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"` : `"${value}"`;
}

const SF_KEY = /^[a-z*][a-z0-9_\-.*]*$/;

/** True for a valid RFC 8941 key (dictionary key, parameter name, signature label). */
export function isSfKey(value: string): boolean {
  return SF_KEY.test(value);
}
