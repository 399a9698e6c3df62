import { X509Certificate } from 'node:crypto';
import { CertificateError, CertificateErrorCode } from './certificate-error';
import { isSingleSequence } from './der';
import { parsePemBlocks, parsePemFile, PemParseOptions } from './pem';

/** Upper bound for one DER certificate; real client certificates are 0.5–2 KB. */
export const MAX_CERTIFICATE_DER_BYTES = 12 * 1024;

/**
 * Turns DER bytes into a Node X509Certificate, refusing anything that is not
 * exactly one DER SEQUENCE first: Node/OpenSSL would silently ignore bytes
 * after the certificate, and those bytes are not covered by the fingerprint
 * a proxy computed, or by anything else.
 */
export function decodeCertificateDer(
  der: Uint8Array,
  code: CertificateErrorCode = 'CERT_HEADER_MALFORMED',
): X509Certificate {
  if (!ArrayBuffer.isView(der) || der.length === 0 || der.length > MAX_CERTIFICATE_DER_BYTES) {
    throw new CertificateError(code, 'certificate has an invalid size');
  }
  if (!isSingleSequence(der)) throw new CertificateError(code, 'certificate is not a single DER structure');
  try {
    return new X509Certificate(Buffer.from(der));
  } catch (error) {
    throw new CertificateError(code, 'certificate DER does not parse', { cause: error });
  }
}

/** Strict PEM text (as decoded from a header) to certificates. */
export function decodePemCertificates(
  text: string,
  options: Omit<PemParseOptions, 'label'>,
  code: CertificateErrorCode = 'CERT_HEADER_MALFORMED',
): X509Certificate[] {
  let blocks: Buffer[];
  try {
    blocks = parsePemBlocks(text, { ...options, label: 'CERTIFICATE' });
  } catch (error) {
    throw new CertificateError(code, `certificate PEM is malformed (${(error as Error).message})`, {
      cause: error,
    });
  }
  return blocks.map((der) => decodeCertificateDer(der, code));
}

/**
 * Reads an operator-supplied PEM bundle (trust anchors, intermediates). At
 * least one certificate is required; failures are configuration errors.
 */
export function loadCertificateBundle(pem: string, what = 'CA bundle'): X509Certificate[] {
  let blocks: Buffer[];
  try {
    blocks = parsePemFile(pem, 'CERTIFICATE');
  } catch (error) {
    throw new CertificateError(
      'CERT_CONFIG_INVALID',
      `${what} is not valid PEM (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
  if (blocks.length === 0)
    throw new CertificateError('CERT_CONFIG_INVALID', `${what} contains no certificate`);
  return blocks.map((der) => decodeCertificateDer(der, 'CERT_CONFIG_INVALID'));
}
