import {
  Token,
  type BareItem,
  type Dictionary,
  type InnerList,
  type Item,
  type Parameters,
} from 'structured-headers';

/** One member of a dictionary as it appears in the field value. */
export interface RawDictionaryMember {
  readonly key: string;
  /** The member value exactly as received (after "="), without surrounding OWS; '' for a bare key. */
  readonly raw: string;
  /** True when a parameter key repeats within the member (the parsed Map keeps only the last value). */
  readonly repeatsParameter: boolean;
}

/** A parsed dictionary plus the raw text of each member, in order. */
export interface ScannedDictionary {
  readonly parsed: Dictionary;
  /** Every member in received order, duplicates included (the parsed Map keeps only the last). */
  readonly members: readonly RawDictionaryMember[];
}

/**
 * Parses an RFC 8941 dictionary (§4.2.2) in one pass and records, for each member,
 * its key, the exact text of its value, and whether a parameter key repeats.
 * Returns undefined when the value is not a dictionary.
 *
 * Written by hand rather than with structured-headers' parseDictionary because
 * RFC 9421 needs what that parser cannot give: the received text of each member
 * (the @signature-params line of the signature base) and every repeated key or
 * parameter (a parsed Map silently keeps the last one, and a signature whose
 * label or parameter repeats must be refused). Recovering those took a second
 * scan over the text, and the two passes were half the cost of verifying a
 * request's signature fields. This parser follows the RFC's algorithms step by
 * step, produces structured-headers' types (Token, Map parameters, Item and
 * InnerList tuples; byte sequences as Buffer), and is checked against
 * structured-headers by a differential property test (structured-field.spec.ts).
 *
 * Strict RFC 8941: the RFC 9651 additions (Dates `@…`, Display Strings `%"…"`) are
 * not values of any field this library parses, and are refused.
 */
export function scanDictionary(input: string): ScannedDictionary | undefined {
  try {
    return new DictionaryParser(input).parse();
  } catch (error) {
    if (error === FAIL) return undefined;
    throw error;
  }
}

/** A Map that cannot be changed: the one parameters value of every item without parameters. */
class NoParameters extends Map<string, BareItem> {
  override set(): this {
    throw new TypeError('parsed structured-field parameters are read-only');
  }
  override delete(): boolean {
    throw new TypeError('parsed structured-field parameters are read-only');
  }
  override clear(): void {
    throw new TypeError('parsed structured-field parameters are read-only');
  }
}
const NO_PARAMETERS: Parameters = new NoParameters();

/** Thrown inside the parser; never escapes scanDictionary. */
const FAIL = Symbol('structured field parse failure');

const SP = 0x20;
const HTAB = 0x09;
// Character classes of RFC 8941 as lookup tables (ASCII only; anything >= 128 is in none).
const KEY_START = new Uint8Array(128); // lcalpha / "*"
const KEY_CHAR = new Uint8Array(128); // lcalpha / DIGIT / "_" / "-" / "." / "*"
const TOKEN_START = new Uint8Array(128); // ALPHA / "*"
const TOKEN_CHAR = new Uint8Array(128); // tchar / ":" / "/"
const BASE64_CHAR = new Uint8Array(128); // ALPHA / DIGIT / "+" / "/" (and "=" for padding, handled apart)
for (let c = 0x61; c <= 0x7a; c++) {
  KEY_START[c] = KEY_CHAR[c] = TOKEN_START[c] = TOKEN_START[c - 0x20] = 1;
  TOKEN_CHAR[c] = TOKEN_CHAR[c - 0x20] = BASE64_CHAR[c] = BASE64_CHAR[c - 0x20] = 1;
}
for (let c = 0x30; c <= 0x39; c++) KEY_CHAR[c] = TOKEN_CHAR[c] = BASE64_CHAR[c] = 1;
for (const c of '_-.*') KEY_CHAR[c.charCodeAt(0)] = 1;
KEY_START[0x2a] = TOKEN_START[0x2a] = 1;
for (const c of ":/!#$%&'*+-.^_`|~") TOKEN_CHAR[c.charCodeAt(0)] = 1;
BASE64_CHAR[0x2b] = BASE64_CHAR[0x2f] = 1;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

class DictionaryParser {
  private pos = 0;
  /** Set when a parameter key repeats in the member being parsed. */
  private repeated = false;

  constructor(private readonly input: string) {}

  /** RFC 8941 §4.2 (top level) and §4.2.2 (Parsing a Dictionary). */
  parse(): ScannedDictionary {
    const { input } = this;
    const parsed: Dictionary = new Map();
    const members: RawDictionaryMember[] = [];
    this.skipSp();
    while (this.pos < input.length) {
      const key = this.key();
      this.repeated = false;
      let raw = '';
      let member: Item | InnerList;
      if (input.charCodeAt(this.pos) === 0x3d /* = */) {
        const start = ++this.pos;
        member = input.charCodeAt(this.pos) === 0x28 /* ( */ ? this.innerList() : this.item();
        raw = input.slice(start, this.pos);
      } else {
        member = [true, this.parameters()];
      }
      parsed.set(key, member);
      members.push({ key, raw, repeatsParameter: this.repeated });
      this.skipOws();
      if (this.pos >= input.length) break;
      if (input.charCodeAt(this.pos) !== 0x2c /* , */) throw FAIL;
      this.pos++;
      this.skipOws();
      if (this.pos >= input.length) throw FAIL; // trailing comma
    }
    return { parsed, members };
  }

  /** §4.2.1.2 Parsing an Inner List. */
  private innerList(): InnerList {
    const { input } = this;
    this.pos++; // "("
    const items: Item[] = [];
    while (this.pos < input.length) {
      this.skipSp();
      if (input.charCodeAt(this.pos) === 0x29 /* ) */) {
        this.pos++;
        return [items, this.parameters()];
      }
      items.push(this.item());
      const next = input.charCodeAt(this.pos);
      if (next !== SP && next !== 0x29) throw FAIL;
    }
    throw FAIL;
  }

  /** §4.2.3 Parsing an Item. */
  private item(): Item {
    const bare = this.bareItem();
    return [bare, this.parameters()];
  }

  /** §4.2.3.1 Parsing a Bare Item. */
  private bareItem(): BareItem {
    const c = this.input.charCodeAt(this.pos);
    if (c === 0x2d /* - */ || isDigit(c)) return this.number();
    if (c === 0x22 /* " */) return this.string();
    if (c < 128 && TOKEN_START[c] === 1) return this.token();
    if (c === 0x3a /* : */) return this.byteSequence();
    if (c === 0x3f /* ? */) return this.boolean();
    throw FAIL; // includes "@" (Date) and "%" (Display String), RFC 9651 only, and the end of input
  }

  /**
   * §4.2.3.2 Parsing Parameters. A repeated key overwrites, and is noted. Most
   * items have none: they share one read-only empty Map.
   */
  private parameters(): Parameters {
    const { input } = this;
    if (input.charCodeAt(this.pos) !== 0x3b /* ; */) return NO_PARAMETERS;
    const params: Parameters = new Map();
    while (input.charCodeAt(this.pos) === 0x3b) {
      this.pos++;
      this.skipSp();
      const key = this.key();
      let value: BareItem = true;
      if (input.charCodeAt(this.pos) === 0x3d /* = */) {
        this.pos++;
        value = this.bareItem();
      }
      if (params.has(key)) this.repeated = true;
      params.set(key, value);
    }
    return params;
  }

  /** §4.2.3.3 Parsing a Key. */
  private key(): string {
    const { input } = this;
    const start = this.pos;
    const c = input.charCodeAt(start);
    if (!(c < 128 && KEY_START[c] === 1)) throw FAIL;
    let i = start + 1;
    for (let k = input.charCodeAt(i); k < 128 && KEY_CHAR[k] === 1; k = input.charCodeAt(++i));
    this.pos = i;
    return input.slice(start, i);
  }

  /** §4.2.4 Parsing an Integer or Decimal. */
  private number(): number {
    const { input } = this;
    let sign = 1;
    if (input.charCodeAt(this.pos) === 0x2d) {
      sign = -1;
      this.pos++;
    }
    const start = this.pos;
    if (!isDigit(input.charCodeAt(start))) throw FAIL;
    let dot = -1;
    let i = start;
    for (;;) {
      const c = input.charCodeAt(i);
      if (isDigit(c)) {
        i++;
      } else if (c === 0x2e /* . */ && dot === -1) {
        if (i - start > 12) throw FAIL;
        dot = i++;
      } else {
        break;
      }
      if (dot === -1 ? i - start > 15 : i - start > 16) throw FAIL;
    }
    this.pos = i;
    const text = input.slice(start, i);
    if (dot === -1) return sign * parseInt(text, 10);
    if (dot === i - 1 || i - dot - 1 > 3) throw FAIL; // ends with "." or more than 3 fraction digits
    return sign * parseFloat(text);
  }

  /** §4.2.5 Parsing a String. */
  private string(): string {
    const { input } = this;
    let i = ++this.pos;
    let out = '';
    let from = i;
    for (;;) {
      const c = input.charCodeAt(i);
      if (c === 0x22 /* " */) {
        this.pos = i + 1;
        return out + input.slice(from, i);
      }
      if (c === 0x5c /* \ */) {
        const next = input.charCodeAt(i + 1);
        if (next !== 0x22 && next !== 0x5c) throw FAIL;
        out += input.slice(from, i);
        from = i + 1; // keep the escaped character
        i += 2;
        continue;
      }
      // Also ends the loop at the end of input (NaN).
      if (!(c >= 0x20 && c <= 0x7e)) throw FAIL;
      i++;
    }
  }

  /** §4.2.6 Parsing a Token. */
  private token(): Token {
    const { input } = this;
    const start = this.pos;
    let i = start + 1;
    for (let c = input.charCodeAt(i); c < 128 && TOKEN_CHAR[c] === 1; c = input.charCodeAt(++i));
    this.pos = i;
    return new Token(input.slice(start, i));
  }

  /**
   * §4.2.7 Parsing a Byte Sequence. Padding is accepted as forgiving base64 (atob)
   * accepts it; callers that need canonical base64 check the raw text.
   */
  private byteSequence(): Buffer {
    const { input } = this;
    const start = this.pos + 1;
    const end = input.indexOf(':', start);
    if (end === -1) throw FAIL;
    let stop = end;
    if ((end - start) % 4 === 0) {
      if (input.charCodeAt(stop - 1) === 0x3d) stop--;
      if (input.charCodeAt(stop - 1) === 0x3d) stop--;
    }
    if ((stop - start) % 4 === 1) throw FAIL;
    for (let i = start; i < stop; i++) {
      const c = input.charCodeAt(i);
      if (!(c < 128 && BASE64_CHAR[c] === 1)) throw FAIL;
    }
    this.pos = end + 1;
    return Buffer.from(input.slice(start, stop), 'base64');
  }

  /** §4.2.8 Parsing a Boolean. */
  private boolean(): boolean {
    const c = this.input.charCodeAt(this.pos + 1);
    if (c !== 0x31 && c !== 0x30) throw FAIL;
    this.pos += 2;
    return c === 0x31;
  }

  private skipSp(): void {
    while (this.input.charCodeAt(this.pos) === SP) this.pos++;
  }

  private skipOws(): void {
    for (
      let c = this.input.charCodeAt(this.pos);
      c === SP || c === HTAB;
      c = this.input.charCodeAt(++this.pos)
    );
  }
}

/** True for a parsed byte sequence (structured-headers yields ArrayBuffer, scanDictionary Buffer). */
export function isByteSequence(value: unknown): value is ArrayBuffer | Uint8Array {
  return value instanceof ArrayBuffer || value instanceof Uint8Array;
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
