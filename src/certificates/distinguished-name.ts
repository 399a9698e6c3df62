import { attributeNameByOid, attributeTypeByName, CN_OID, NUMERIC_OID } from './attribute-types';
import { CertificateError, withCertificateErrors } from './certificate-error';
import { readTlv } from './der';

/**
 * Distinguished names as data, never as strings to split.
 *
 * `parseDistinguishedName` is a hand-written, strict RFC 4514 parser: no
 * maintained npm library implements the grammar (escapes, hex pairs forming
 * UTF-8, multi-valued RDNs, #BER values) without also accepting RFC 1779
 * leftovers. The naive alternative, splitting on "," "/" or "=", is what lets
 * a CN of `mallory/CN=admin` or an O of `Evil, CN=admin` become "admin".
 *
 * Ordering: an RDN sequence is returned in ASN.1 order (most significant
 * first, e.g. C, O, CN). The string form lists RDNs in the reverse order
 * (RFC 4514 §2.1), so `CN=x,O=y` parses to [[O=y], [CN=x]]. This is the same
 * order `readCertificateSubject` returns, so both can be compared directly.
 */

export type StringEncoding =
  | 'utf8String'
  | 'printableString'
  | 'ia5String'
  | 'bmpString'
  | 'universalString'
  | 'visibleString'
  | 'numericString';

interface AttributeBase {
  /** Canonical short name when the type is known (CN, O, DC, ...), else the OID or descriptor as written. */
  readonly type: string;
  /** Dotted OID when known. */
  readonly oid: string | undefined;
}

/** An attribute whose value is a character string. */
export interface StringAttribute extends AttributeBase {
  readonly kind: 'string';
  readonly value: string;
  /** ASN.1 string type, when read from a certificate. */
  readonly encoding?: StringEncoding;
}

/**
 * An attribute whose value is kept as raw BER/DER (the full TLV): `#hex` in a
 * DN string, or a non-string / TeletexString value in a certificate. It is
 * never interpreted, so it can never be mistaken for a string.
 */
export interface BerAttribute extends AttributeBase {
  readonly kind: 'ber';
  readonly ber: Uint8Array;
}

export type DnAttribute = StringAttribute | BerAttribute;
/** A relative distinguished name: one or more attributes (multi-valued with "+"). */
export type RelativeDistinguishedName = readonly DnAttribute[];
export type DistinguishedName = readonly RelativeDistinguishedName[];

export const MAX_DN_STRING_LENGTH = 8192;

const HEX_DIGIT = /^[0-9A-Fa-f]$/;
/** Characters that may follow a backslash literally (RFC 4514 "escaped" / "special" plus ESC). */
const ESCAPABLE = new Set(['"', '+', ',', ';', '<', '>', '\\', ' ', '#', '=']);
/** Characters that must be escaped anywhere in a value. */
const MUST_ESCAPE = new Set(['"', '+', ',', ';', '<', '>', '\\']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

class DnSyntaxError extends CertificateError {
  constructor(message: string, offset: number) {
    super('CERT_SUBJECT_INVALID', `distinguished name: ${message} at offset ${offset}`);
  }
}

/**
 * Parses an RFC 4514 (and so RFC 2253 as emitted by OpenSSL/Java) string.
 * Refused: the OpenSSL slash form (`/C=US/CN=x`), RFC 1779 extras (spaces
 * around separators, ";" as separator, quoted values, `OID.` prefixes),
 * unescaped leading/trailing spaces, empty types, a trailing separator,
 * invalid UTF-8 from hex escapes, and `#hex` values that are not exactly one
 * DER TLV. `#hex` values are decoded only to raw bytes (kind 'ber').
 */
export function parseDistinguishedName(input: string): DistinguishedName {
  if (typeof input !== 'string')
    throw new CertificateError('CERT_SUBJECT_INVALID', 'distinguished name must be a string');
  if (input.length > MAX_DN_STRING_LENGTH) {
    throw new CertificateError(
      'CERT_SUBJECT_INVALID',
      `distinguished name exceeds ${MAX_DN_STRING_LENGTH} characters`,
    );
  }
  if (input === '') return [];
  if (input.startsWith('/')) {
    throw new CertificateError(
      'CERT_SUBJECT_INVALID',
      'distinguished name: the OpenSSL "/C=../CN=.." form is not accepted',
    );
  }
  const parser = new DnParser(input);
  const rdns: RelativeDistinguishedName[] = [];
  for (;;) {
    rdns.push(parser.rdn());
    if (parser.atEnd()) break;
    parser.expect(',');
    if (parser.atEnd()) throw new DnSyntaxError('trailing ","', input.length);
  }
  return rdns.reverse();
}

class DnParser {
  private pos = 0;

  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  expect(ch: string): void {
    if (this.s[this.pos] !== ch) throw new DnSyntaxError(`expected "${ch}"`, this.pos);
    this.pos++;
  }

  rdn(): DnAttribute[] {
    const attributes: DnAttribute[] = [this.attribute()];
    while (this.s[this.pos] === '+') {
      this.pos++;
      attributes.push(this.attribute());
    }
    return attributes;
  }

  private attribute(): DnAttribute {
    const { type, oid } = this.attributeType();
    this.expect('=');
    if (this.s[this.pos] === '#') return { type, oid, kind: 'ber', ber: this.hexString() };
    return { type, oid, kind: 'string', value: this.stringValue() };
  }

  /** descr = ALPHA *(ALPHA / DIGIT / "-"); numericoid = number 1*("." number). */
  private attributeType(): { type: string; oid: string | undefined } {
    const start = this.pos;
    const first = this.s[this.pos] ?? '';
    if (/^[A-Za-z]$/.test(first)) {
      while (this.pos < this.s.length && /^[A-Za-z0-9-]$/.test(this.s[this.pos])) this.pos++;
      const descriptor = this.s.slice(start, this.pos);
      if (this.s[this.pos] === '.' && descriptor.toLowerCase() === 'oid') {
        throw new DnSyntaxError('the RFC 1779 "OID." prefix is not accepted', start);
      }
      const known = attributeTypeByName(descriptor);
      return known ? { type: known.name, oid: known.oid } : { type: descriptor, oid: undefined };
    }
    if (/^[0-9]$/.test(first)) {
      while (this.pos < this.s.length && /^[0-9.]$/.test(this.s[this.pos])) this.pos++;
      const oid = this.s.slice(start, this.pos);
      if (!NUMERIC_OID.test(oid)) throw new DnSyntaxError('invalid numeric OID', start);
      return { type: attributeNameByOid(oid) ?? oid, oid };
    }
    throw new DnSyntaxError(first === '' ? 'missing attribute type' : 'invalid attribute type', start);
  }

  /** hexstring = "#" 1*hexpair, holding exactly one DER TLV. */
  private hexString(): Uint8Array {
    const start = this.pos;
    this.pos++;
    const hexStart = this.pos;
    while (this.pos < this.s.length && HEX_DIGIT.test(this.s[this.pos])) this.pos++;
    const hex = this.s.slice(hexStart, this.pos);
    if (hex.length === 0 || hex.length % 2 !== 0) throw new DnSyntaxError('invalid #hex value', start);
    this.checkValueEnd();
    const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
    try {
      if (readTlv(bytes, 0).end !== bytes.length) throw new Error('trailing bytes');
    } catch {
      throw new DnSyntaxError('#hex value is not a single DER TLV', start);
    }
    return bytes;
  }

  /** A value must be followed by "," "+" or the end. */
  private checkValueEnd(): void {
    const next = this.s[this.pos];
    if (next !== undefined && next !== ',' && next !== '+')
      throw new DnSyntaxError('unexpected character', this.pos);
  }

  /**
   * string = [ (leadchar / pair) [ *(stringchar / pair) (trailchar / pair) ] ]
   * Raw characters are collected as UTF-8 bytes together with \XX bytes, and
   * the whole value is then decoded as UTF-8 (fatal), as RFC 4514 §3 requires.
   */
  private stringValue(): string {
    const bytes: number[] = [];
    const start = this.pos;
    let lastRawSpace = false;
    while (this.pos < this.s.length) {
      const ch = this.s[this.pos];
      if (ch === ',' || ch === '+') break;
      if (ch === '\\') {
        const a = this.s[this.pos + 1];
        const b = this.s[this.pos + 2];
        if (a === undefined) throw new DnSyntaxError('unterminated escape', this.pos);
        if (HEX_DIGIT.test(a) && b !== undefined && HEX_DIGIT.test(b)) {
          bytes.push(parseInt(a + b, 16));
          this.pos += 3;
        } else if (ESCAPABLE.has(a)) {
          bytes.push(a.charCodeAt(0));
          this.pos += 2;
        } else {
          throw new DnSyntaxError('invalid escape', this.pos);
        }
        lastRawSpace = false;
        continue;
      }
      if (MUST_ESCAPE.has(ch)) throw new DnSyntaxError(`unescaped "${ch}"`, this.pos);
      if (ch === '\0') throw new DnSyntaxError('unescaped NUL', this.pos);
      if (ch === ' ' && this.pos === start) throw new DnSyntaxError('unescaped leading space', this.pos);
      const code = this.s.codePointAt(this.pos) ?? 0;
      if (code >= 0xd800 && code <= 0xdfff) throw new DnSyntaxError('unpaired surrogate', this.pos);
      for (const byte of Buffer.from(String.fromCodePoint(code), 'utf8')) bytes.push(byte);
      this.pos += code > 0xffff ? 2 : 1;
      lastRawSpace = ch === ' ';
    }
    if (lastRawSpace) throw new DnSyntaxError('unescaped trailing space', this.pos - 1);
    try {
      return utf8.decode(Uint8Array.from(bytes));
    } catch {
      throw new DnSyntaxError('hex escapes do not form valid UTF-8', start);
    }
  }
}

/** Escapes a string value for RFC 4514 output (§2.4), plus hex for controls and bidi/format characters. */
function escapeValue(value: string): string {
  let out = '';
  const chars = Array.from(value);
  chars.forEach((ch, index) => {
    if (MUST_ESCAPE.has(ch)) out += `\\${ch}`;
    else if ((ch === ' ' || ch === '#') && index === 0) out += `\\${ch}`;
    else if (ch === ' ' && index === chars.length - 1) out += '\\ ';
    else if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(ch)) {
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `\\${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    } else out += ch;
  });
  return out;
}

/**
 * Renders a DN as an RFC 4514 string (string order, i.e. reversed from ASN.1
 * order). Safe for logs: controls and bidi/format characters are hex-escaped.
 */
export function formatDistinguishedName(dn: DistinguishedName): string {
  return [...dn]
    .reverse()
    .map((rdn) =>
      rdn
        .map((attribute) => {
          const type =
            attribute.oid !== undefined
              ? (attributeNameByOid(attribute.oid) ?? attribute.oid)
              : attribute.type;
          const value =
            attribute.kind === 'ber'
              ? `#${Buffer.from(attribute.ber).toString('hex')}`
              : escapeValue(attribute.value);
          return `${type}=${value}`;
        })
        .join('+'),
    )
    .join(',');
}

/** All attributes with the given OID, in ASN.1 order. */
export function attributesByOid(dn: DistinguishedName, oid: string): DnAttribute[] {
  return dn.flatMap((rdn) => rdn.filter((attribute) => attribute.oid === oid));
}

const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * The one common name of a subject. Throws CERT_SUBJECT_INVALID unless there
 * is exactly one CN attribute in the whole name (any RDN, multi-valued or not),
 * and it is a non-empty character string without control or bidi characters.
 */
export function requireSingleCn(dn: DistinguishedName): string {
  if (!Array.isArray(dn))
    throw new CertificateError('CERT_SUBJECT_INVALID', 'subject must be an RDN sequence');
  const cns = withCertificateErrors('CERT_SUBJECT_INVALID', 'subject is not an RDN sequence', () =>
    attributesByOid(dn, CN_OID),
  );
  if (cns.length !== 1) {
    throw new CertificateError(
      'CERT_SUBJECT_INVALID',
      `subject must contain exactly one CN, found ${cns.length}`,
    );
  }
  const [cn] = cns;
  if (cn.kind !== 'string')
    throw new CertificateError('CERT_SUBJECT_INVALID', 'subject CN is not a character string');
  if (cn.value.length === 0) throw new CertificateError('CERT_SUBJECT_INVALID', 'subject CN is empty');
  if (/\p{Cc}/u.test(cn.value) || BIDI_CONTROLS.test(cn.value)) {
    throw new CertificateError('CERT_SUBJECT_INVALID', 'subject CN contains control or bidi characters');
  }
  return cn.value;
}

/** Attribute-by-attribute equality (type by OID when known, values exact, RDNs as sets). */
export function distinguishedNamesEqual(a: DistinguishedName, b: DistinguishedName): boolean {
  if (a.length !== b.length) return false;
  const key = (attribute: DnAttribute): string =>
    `${attribute.oid ?? attribute.type.toLowerCase()}=${
      attribute.kind === 'ber' ? `#${Buffer.from(attribute.ber).toString('hex')}` : `"${attribute.value}`
    }`;
  return a.every((rdn, i) => {
    const left = rdn.map(key).sort();
    const right = b[i].map(key).sort();
    return left.length === right.length && left.every((k, j) => k === right[j]);
  });
}
