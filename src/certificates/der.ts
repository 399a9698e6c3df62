/**
 * A minimal, strict DER reader: just enough to check that a certificate blob is
 * exactly one TLV, and to walk the subject Name and the SAN extension without
 * going through any string form.
 *
 * Why not only @peculiar/x509: its Name decodes a UTF8String that is not
 * valid UTF-8 as latin1 (the bytes FF and C3 BF both read "ÿ", so two
 * different names collide), and `Name#toJSON()` renders a non-string value as
 * "#hex", which cannot be told apart from a UTF8String that starts with "#".
 * Identity needs the exact bytes.
 *
 * Errors are plain `DerError`s; callers convert them into CertificateError.
 */
export class DerError extends Error {
  override readonly name = 'DerError';
}

export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  readonly contentStart: number;
  /** Offset just past the contents (= end of this TLV). */
  readonly end: number;
}

export const DER_TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads one TLV at `offset`, which must end at or before `limit`. Definite, minimal lengths only. */
export function readTlv(bytes: Uint8Array, offset: number, limit: number = bytes.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated TLV');
  const tag = bytes[offset];
  // High-tag-number form (low 5 bits all set) never occurs in the structures we walk.
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tag');
  const first = bytes[offset + 1];
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const count = first & 0x7f;
    // 0x80 is BER indefinite length; more than 4 length octets is absurd here.
    if (count === 0 || count > 4) throw new DerError('unsupported length form');
    if (offset + 2 + count > limit) throw new DerError('truncated length');
    if (bytes[offset + 2] === 0) throw new DerError('non-minimal length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i];
    if (length < 0x80) throw new DerError('non-minimal length');
    contentStart = offset + 2 + count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('length exceeds enclosing structure');
  return { tag, start: offset, contentStart, end };
}

/** Reads all TLVs directly inside a constructed TLV; they must fill it exactly. */
export function readChildren(bytes: Uint8Array, parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('expected a constructed type');
  const children: Tlv[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readTlv(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

export function expectTag(tlv: Tlv, tag: number, what: string): Tlv {
  if (tlv.tag !== tag) throw new DerError(`unexpected tag for ${what}`);
  return tlv;
}

export function contents(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.contentStart, tlv.end);
}

/** True when `bytes` is exactly one DER SEQUENCE, with nothing before or after it. */
export function isSingleSequence(bytes: Uint8Array): boolean {
  try {
    const outer = readTlv(bytes, 0);
    return outer.tag === DER_TAG.SEQUENCE && outer.end === bytes.length;
  } catch {
    return false;
  }
}

/** Decodes an OBJECT IDENTIFIER's contents to dotted form (strict: minimal base-128 arcs). */
export function decodeOid(value: Uint8Array): string {
  if (value.length === 0 || value.length > 64) throw new DerError('bad OID length');
  const arcs: number[] = [];
  let current = 0;
  let started = false;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i];
    if (!started && byte === 0x80) throw new DerError('non-minimal OID arc');
    started = true;
    current = current * 128 + (byte & 0x7f);
    if (current > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((byte & 0x80) === 0) {
      arcs.push(current);
      current = 0;
      started = false;
    }
  }
  if (started) throw new DerError('truncated OID');
  const first = arcs[0];
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/**
 * Walks Certificate -> tbsCertificate and returns the TLVs of the fields we
 * need (RFC 5280 §4.1). Only the shape is checked; Node/OpenSSL has already
 * parsed the certificate as a whole.
 */
export function tbsCertificateFields(certDer: Uint8Array): { serial: Tlv; issuer: Tlv; subject: Tlv } {
  const cert = expectTag(readTlv(certDer, 0), DER_TAG.SEQUENCE, 'Certificate');
  if (cert.end !== certDer.length) throw new DerError('trailing data after certificate');
  const [tbs] = readChildren(certDer, cert);
  if (tbs === undefined) throw new DerError('empty certificate');
  const fields = readChildren(certDer, expectTag(tbs, DER_TAG.SEQUENCE, 'tbsCertificate'));
  // [0] EXPLICIT version is optional (absent means v1).
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serial = fields[offset];
  const issuer = fields[offset + 2];
  const subject = fields[offset + 4];
  if (serial === undefined || issuer === undefined || subject === undefined) {
    throw new DerError('truncated tbsCertificate');
  }
  if (serial.end === serial.contentStart) throw new DerError('empty serial number');
  expectTag(serial, DER_TAG.INTEGER, 'serialNumber');
  expectTag(issuer, DER_TAG.SEQUENCE, 'issuer');
  expectTag(subject, DER_TAG.SEQUENCE, 'subject');
  return { serial, issuer, subject };
}
