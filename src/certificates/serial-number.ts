import { X509Certificate } from 'node:crypto';
import { CertificateError } from './certificate-error';
import { tbsCertificateFields } from './der';

/**
 * Canonical form of a certificate serial number: uppercase hex without
 * leading zeros ("0" for zero). Node prints "00AB..." or "AB...", OpenSSL
 * "ab:cd", @peculiar/x509 keeps the INTEGER bytes (a leading 00 for a set high
 * bit); all of them must compare equal. Colons between byte pairs are accepted.
 */
export function normalizeSerialNumber(serial: string): string {
  if (typeof serial !== 'string')
    throw new CertificateError('CERT_CONFIG_INVALID', 'serial number must be a string');
  const compact = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+$/.test(serial) ? serial.replace(/:/g, '') : serial;
  // RFC 5280 caps serials at 20 octets; allow some slack for non-conforming CAs.
  if (!/^[0-9A-Fa-f]{1,64}$/.test(compact)) {
    throw new CertificateError(
      'CERT_CONFIG_INVALID',
      'serial number must be hexadecimal (at most 64 digits)',
    );
  }
  return compact.replace(/^0+(?=.)/, '').toUpperCase();
}

/**
 * The serial of a certificate in the same canonical form, taken from the DER
 * INTEGER bytes rather than from Node's rendering (which is not specified for
 * negative or over-long serials that non-conforming CAs produce). Never throws
 * for a certificate Node has parsed.
 */
export function certificateSerialNumber(cert: X509Certificate): string {
  try {
    const { serial } = tbsCertificateFields(cert.raw);
    const hex = Buffer.from(cert.raw.subarray(serial.contentStart, serial.end)).toString('hex');
    return hex.replace(/^0+(?=.)/, '').toUpperCase();
  } catch (error) {
    throw new CertificateError('CERT_SUBJECT_INVALID', 'certificate serial number cannot be read', {
      cause: error,
    });
  }
}
