import { webcrypto, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as x509 from '@peculiar/x509';
import { loadCertificateBundle } from './certificate-decoding';
import { CertificateError, withCertificateErrorsAsync } from './certificate-error';
import { certificateInfo } from './certificate-info';
import { DER_TAG, expectTag, isSingleSequence, readChildren, readTlv } from './der';
import { parsePemFile } from './pem';
import { normalizeSerialNumber } from './serial-number';

/** CRL extensions that need no processing; anything else critical (IDP, delta CRL) is refused. */
const HANDLED_CRL_EXTENSIONS = new Set(['2.5.29.35' /* AKI */, '2.5.29.20' /* cRLNumber */]);
const MAX_CRL_BYTES = 16 * 1024 * 1024;

function invalid(message: string, cause?: unknown): CertificateError {
  return new CertificateError('CERT_CRL_INVALID', message, { cause });
}

/**
 * A certificate revocation list whose signature has been checked against a
 * configured CA certificate. Only full, direct CRLs are supported: a critical
 * issuingDistributionPoint (partitioned/indirect CRL), deltaCRLIndicator or a
 * critical entry extension (certificateIssuer) makes `load` fail rather than
 * answer for certificates the CRL may not cover.
 */
export class CrlRevocationList {
  private constructor(
    /** The CA certificate that signed this CRL. */
    readonly issuer: X509Certificate,
    readonly thisUpdate: Date,
    readonly nextUpdate: Date | undefined,
    private readonly serials: ReadonlySet<string>,
    private readonly issuerSubjectDer: Buffer,
  ) {}

  /**
   * Loads a CRL (PEM "X509 CRL" text, or DER bytes) and checks that one of
   * `caCertificates` (certificates or PEM bundle) has the CRL's issuer name
   * as subject, is a CA allowed to sign CRLs, and verifies the signature.
   */
  static async load(
    crl: string | Uint8Array,
    caCertificates: readonly X509Certificate[] | string,
  ): Promise<CrlRevocationList> {
    // @peculiar/x509 decodes extensions and entries lazily, in getters that throw plain Errors:
    // everything below runs under one conversion to CERT_CRL_INVALID.
    return withCertificateErrorsAsync('CERT_CRL_INVALID', 'CRL cannot be decoded', async () => {
      const candidates =
        typeof caCertificates === 'string' ? loadCertificateBundle(caCertificates) : caCertificates;
      const der = crlDer(crl);
      let parsed: x509.X509Crl;
      try {
        parsed = new x509.X509Crl(der);
      } catch (error) {
        throw invalid('CRL does not parse', error);
      }
      for (const extension of parsed.extensions) {
        if (extension.critical && !HANDLED_CRL_EXTENSIONS.has(extension.type)) {
          throw invalid(`CRL has an unsupported critical extension ${extension.type}`);
        }
      }
      let serials: Set<string>;
      try {
        serials = new Set(
          parsed.entries.map((entry) => {
            if (entry.extensions.some((extension) => extension.critical)) {
              throw invalid('CRL entry has a critical extension (indirect CRL?)');
            }
            return normalizeSerialNumber(entry.serialNumber);
          }),
        );
      } catch (error) {
        if (error instanceof CertificateError && error.code === 'CERT_CRL_INVALID') throw error;
        throw invalid('CRL entries cannot be decoded', error);
      }

      const issuerDer = crlIssuerDer(der);
      for (const candidate of candidates) {
        const info = certificateInfo(candidate, 'CERT_CONFIG_INVALID');
        if (!info.subjectDer.equals(issuerDer)) continue;
        if (info.basicConstraints?.ca !== true) continue;
        if (info.keyUsage !== undefined && (info.keyUsage & x509.KeyUsageFlags.cRLSign) === 0) continue;
        let valid = false;
        try {
          valid = await parsed.verify({ publicKey: new x509.X509Certificate(candidate.raw) }, webcrypto);
        } catch {
          valid = false;
        }
        if (valid) {
          return new CrlRevocationList(
            candidate,
            parsed.thisUpdate,
            parsed.nextUpdate,
            serials,
            info.subjectDer,
          );
        }
      }
      throw invalid('CRL is not signed by any configured CA certificate');
    });
  }

  /** Reads a CRL file (PEM or DER) and loads it as `load` does. */
  static async loadFile(
    path: string,
    caCertificates: readonly X509Certificate[] | string,
  ): Promise<CrlRevocationList> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new CertificateError('CERT_CONFIG_INVALID', `cannot read CRL file ${path}`, { cause: error });
    }
    return CrlRevocationList.load(bytes, caCertificates);
  }

  /** True when the serial (any case, leading zeros, colons allowed) is listed. */
  isRevoked(serialHex: string): boolean {
    return this.serials.has(normalizeSerialNumber(serialHex));
  }

  get revokedCount(): number {
    return this.serials.size;
  }

  /** True when this CRL speaks for certificates issued by `issuer` (same subject name and key). */
  covers(issuer: X509Certificate): boolean {
    if (issuer.raw.equals(this.issuer.raw)) return true;
    const info = certificateInfo(issuer);
    return info.subjectDer.equals(this.issuerSubjectDer) && issuer.publicKey.equals(this.issuer.publicKey);
  }

  /** thisUpdate <= now < nextUpdate (a CRL without nextUpdate never goes stale). */
  isCurrent(now: Date, toleranceMs = 0): boolean {
    if (this.thisUpdate.getTime() - toleranceMs > now.getTime()) return false;
    return this.nextUpdate === undefined || now.getTime() < this.nextUpdate.getTime() + toleranceMs;
  }
}

function crlDer(crl: string | Uint8Array): Uint8Array {
  let der: Uint8Array;
  if (typeof crl === 'string' || crl[0] !== DER_TAG.SEQUENCE) {
    const text = typeof crl === 'string' ? crl : Buffer.from(crl).toString('latin1');
    let blocks: Buffer[];
    try {
      blocks = parsePemFile(text, 'X509 CRL');
    } catch (error) {
      throw invalid(`CRL PEM is malformed (${(error as Error).message})`, error);
    }
    if (blocks.length !== 1) throw invalid('CRL file must contain exactly one X509 CRL block');
    der = blocks[0];
  } else {
    der = crl;
  }
  if (der.length > MAX_CRL_BYTES || !isSingleSequence(der))
    throw invalid('CRL is not a single DER structure');
  return der;
}

/** CertificateList -> tbsCertList -> issuer, as exact bytes (RFC 5280 §5.1). */
function crlIssuerDer(der: Uint8Array): Buffer {
  try {
    const [tbs] = readChildren(der, readTlv(der, 0));
    const fields = readChildren(der, expectTag(tbs, DER_TAG.SEQUENCE, 'tbsCertList'));
    const offset = fields[0]?.tag === DER_TAG.INTEGER ? 1 : 0;
    const issuer = expectTag(fields[offset + 1], DER_TAG.SEQUENCE, 'issuer');
    return Buffer.from(der.subarray(issuer.start, issuer.end));
  } catch (error) {
    throw invalid('CRL issuer cannot be decoded', error);
  }
}
