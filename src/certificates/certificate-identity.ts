import { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { attributeNameByOid } from './attribute-types';
import { CertificateError } from './certificate-error';
import {
  contents,
  decodeOid,
  DER_TAG,
  DerError,
  expectTag,
  readChildren,
  readTlv,
  tbsCertificateFields,
  Tlv,
} from './der';
import { DistinguishedName, DnAttribute, StringEncoding } from './distinguished-name';
import { certificateFingerprints, CertificateFingerprints } from './certificate-fingerprint';
import { certificateSerialNumber } from './serial-number';

/**
 * Identity read structurally from the certificate's ASN.1, never from a
 * string rendering. Node's `X509Certificate.subject` joins RDNs with "\n" and
 * escapes inconsistently, and @peculiar/x509's `Name#toString()` uses ", ",
 * so any value containing those separators can impersonate another attribute.
 * Here each attribute is a separate object with its exact decoded value.
 */

export interface SubjectAltNames {
  readonly dns: readonly string[];
  readonly uri: readonly string[];
  readonly email: readonly string[];
  /** IPv4 dotted quad or RFC 5952 IPv6 text. */
  readonly ip: readonly string[];
  /** Number of other GeneralName kinds (otherName, directoryName, registeredID, ...) that were skipped. */
  readonly otherCount: number;
}

export interface CertificateIdentity {
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  readonly subjectAltNames: SubjectAltNames;
  /** Uppercase hex without leading zeros. */
  readonly serialNumber: string;
  readonly fingerprints: CertificateFingerprints;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

type CertificateInput = X509Certificate | Uint8Array;

function derOf(cert: CertificateInput): Uint8Array {
  return cert instanceof X509Certificate ? cert.raw : cert;
}

function invalid(message: string, cause?: unknown): CertificateError {
  return new CertificateError('CERT_SUBJECT_INVALID', message, { cause });
}

/** The subject Name, attribute by attribute, in ASN.1 order. */
export function readCertificateSubject(cert: CertificateInput): DistinguishedName {
  const der = derOf(cert);
  try {
    return decodeName(der, tbsCertificateFields(der).subject);
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    throw invalid('certificate subject cannot be decoded', error);
  }
}

export function readCertificateIssuer(cert: CertificateInput): DistinguishedName {
  const der = derOf(cert);
  try {
    return decodeName(der, tbsCertificateFields(der).issuer);
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    throw invalid('certificate issuer cannot be decoded', error);
  }
}

/**
 * Name ::= SEQUENCE OF RelativeDistinguishedName
 * RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 * AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
 */
export function decodeName(der: Uint8Array, name: Tlv): DistinguishedName {
  return readChildren(der, expectTag(name, DER_TAG.SEQUENCE, 'Name')).map((rdnTlv) => {
    const atvs = readChildren(der, expectTag(rdnTlv, DER_TAG.SET, 'RelativeDistinguishedName'));
    if (atvs.length === 0) throw new DerError('empty RDN');
    return atvs.map((atvTlv): DnAttribute => {
      const parts = readChildren(der, expectTag(atvTlv, DER_TAG.SEQUENCE, 'AttributeTypeAndValue'));
      if (parts.length !== 2) throw new DerError('AttributeTypeAndValue must have two parts');
      const oid = decodeOid(contents(der, expectTag(parts[0], DER_TAG.OID, 'attribute type')));
      const type = attributeNameByOid(oid) ?? oid;
      const value = parts[1];
      const decoded = decodeDirectoryString(value.tag, contents(der, value));
      if (decoded === undefined) {
        return { type, oid, kind: 'ber', ber: Uint8Array.from(der.subarray(value.start, value.end)) };
      }
      return { type, oid, kind: 'string', value: decoded.value, encoding: decoded.encoding };
    });
  });
}

const NUMERIC = /^[0-9 ]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the string types we can read without guessing. TeletexString (T.61,
 * charset ambiguous in practice) and non-string types return undefined and are
 * kept as raw BER. Values that violate their type (invalid UTF-8, non-ASCII in
 * an ASCII type, surrogates in BMPString) are errors, not replacement characters.
 */
function decodeDirectoryString(
  tag: number,
  bytes: Uint8Array,
): { value: string; encoding: StringEncoding } | undefined {
  const ascii = (): string => {
    if (bytes.some((b) => b > 0x7f)) throw invalid('non-ASCII byte in an ASCII string type');
    return Buffer.from(bytes).toString('latin1');
  };
  switch (tag) {
    case DER_TAG.UTF8_STRING:
      try {
        return { value: utf8.decode(bytes), encoding: 'utf8String' };
      } catch (error) {
        throw invalid('invalid UTF-8 in a UTF8String', error);
      }
    case DER_TAG.PRINTABLE_STRING:
      // Real CAs put "*", "@" or "&" into PrintableString; the bytes are still ASCII, so they are decoded as such.
      return { value: ascii(), encoding: 'printableString' };
    case DER_TAG.IA5_STRING:
      return { value: ascii(), encoding: 'ia5String' };
    case DER_TAG.VISIBLE_STRING:
      return { value: ascii(), encoding: 'visibleString' };
    case DER_TAG.NUMERIC_STRING: {
      const value = ascii();
      if (!NUMERIC.test(value)) throw invalid('invalid NumericString');
      return { value, encoding: 'numericString' };
    }
    case DER_TAG.BMP_STRING: {
      if (bytes.length % 2 !== 0) throw invalid('odd-length BMPString');
      let value = '';
      for (let i = 0; i < bytes.length; i += 2) {
        const unit = (bytes[i] << 8) | bytes[i + 1];
        if (unit >= 0xd800 && unit <= 0xdfff) throw invalid('surrogate in BMPString');
        value += String.fromCharCode(unit);
      }
      return { value, encoding: 'bmpString' };
    }
    case DER_TAG.UNIVERSAL_STRING: {
      if (bytes.length % 4 !== 0) throw invalid('UniversalString length is not a multiple of 4');
      let value = '';
      for (let i = 0; i < bytes.length; i += 4) {
        const code = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
          throw invalid('invalid code point in UniversalString');
        value += String.fromCodePoint(code);
      }
      return { value, encoding: 'universalString' };
    }
    default:
      return undefined;
  }
}

const SAN_OID = '2.5.29.17';

/**
 * SAN entries of the four kinds used for identity, read from the extension's
 * DER with @peculiar/x509 locating the extension. Entries must be visible
 * ASCII without spaces (no NUL-prefix or whitespace tricks) and IP addresses
 * 4 or 16 bytes; anything else makes the whole certificate unusable for
 * identity rather than silently dropping an entry.
 */
export function readSubjectAltNames(cert: CertificateInput): SubjectAltNames {
  const der = derOf(cert);
  let extensions: x509.Extension[];
  try {
    extensions = new x509.X509Certificate(der).extensions.filter((extension) => extension.type === SAN_OID);
  } catch (error) {
    throw invalid('certificate extensions cannot be decoded', error);
  }
  const result = {
    dns: [] as string[],
    uri: [] as string[],
    email: [] as string[],
    ip: [] as string[],
    otherCount: 0,
  };
  if (extensions.length === 0) return result;
  if (extensions.length > 1) throw invalid('certificate has more than one subjectAltName extension');
  const value = new Uint8Array(extensions[0].value);
  try {
    const outer = expectTag(readTlv(value, 0), DER_TAG.SEQUENCE, 'GeneralNames');
    if (outer.end !== value.length) throw new DerError('trailing data after GeneralNames');
    for (const name of readChildren(value, outer)) {
      const body = contents(value, name);
      switch (name.tag) {
        case 0x81:
          result.email.push(sanText(body));
          break;
        case 0x82:
          result.dns.push(sanText(body));
          break;
        case 0x86:
          result.uri.push(sanText(body));
          break;
        case 0x87:
          result.ip.push(formatIp(body));
          break;
        default:
          result.otherCount++;
      }
    }
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    throw invalid('subjectAltName cannot be decoded', error);
  }
  return result;
}

function sanText(bytes: Uint8Array): string {
  if (bytes.length === 0) throw invalid('empty subjectAltName entry');
  if (bytes.some((b) => b < 0x21 || b > 0x7e))
    throw invalid('subjectAltName entry contains non-visible or non-ASCII bytes');
  return Buffer.from(bytes).toString('latin1');
}

/** IPv4 as dotted quad; IPv6 in RFC 5952 canonical text (lowercase, longest zero run as "::"). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw invalid('subjectAltName IP address must be 4 or 16 bytes');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Everything identity mapping needs, read structurally. */
export function readCertificateIdentity(cert: X509Certificate): CertificateIdentity {
  let parsed: x509.X509Certificate;
  try {
    parsed = new x509.X509Certificate(cert.raw);
  } catch (error) {
    throw invalid('certificate cannot be decoded', error);
  }
  return {
    subject: readCertificateSubject(cert),
    issuer: readCertificateIssuer(cert),
    subjectAltNames: readSubjectAltNames(cert),
    serialNumber: certificateSerialNumber(cert),
    fingerprints: certificateFingerprints(cert),
    notBefore: parsed.notBefore,
    notAfter: parsed.notAfter,
  };
}
