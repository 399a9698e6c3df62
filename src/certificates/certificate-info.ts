import { X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { CertificateError, CertificateErrorCode } from './certificate-error';
import { tbsCertificateFields } from './der';

/**
 * The facts path validation needs from one certificate, decoded once with
 * @peculiar/x509 (Node 20's X509Certificate exposes neither dates as Date,
 * nor pathLenConstraint, key-usage bits or criticality).
 */
export interface CertificateInfo {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** undefined when the certificate has no basicConstraints extension. */
  readonly basicConstraints: { readonly ca: boolean; readonly pathLength: number | undefined } | undefined;
  /** KeyUsageFlags bit set, undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
  /** Extended key usage OIDs, undefined when the extension is absent. */
  readonly extendedKeyUsage: readonly string[] | undefined;
  /** OIDs of critical extensions this code does not process. */
  readonly unhandledCritical: readonly string[];
  /** Exact DER bytes of the subject Name (for CRL issuer matching). */
  readonly subjectDer: Buffer;
  /** The certificate carries a nameConstraints extension (critical or not). */
  readonly hasNameConstraints: boolean;
  /** How its issuer signed it, e.g. `ECDSA with SHA-256`; null when the algorithm is not one accepted here. */
  readonly signature: string | null;
}

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  nameConstraints: '2.5.29.30',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/**
 * Extensions whose semantics are enforced here (or that carry no constraint).
 * Anything else marked critical makes the certificate unusable, as RFC 5280
 * §4.2 requires: notably nameConstraints and policy extensions, which this
 * verifier does not evaluate.
 */
const HANDLED = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
]);

/** Signature algorithms accepted in a path: no SHA-1, no MD5, nothing unknown. */
const SIGNATURE_SCHEMES = new Set(['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA']);
const SIGNATURE_HASHES = new Set(['SHA-256', 'SHA-384', 'SHA-512']);

function acceptedSignature(parsed: x509.X509Certificate): string | null {
  let algorithm: { name?: unknown; hash?: { name?: unknown } };
  try {
    algorithm = parsed.signatureAlgorithm as typeof algorithm;
  } catch {
    return null; // an algorithm @peculiar/x509 cannot name is not one accepted here
  }
  if (algorithm.name === 'Ed25519') return 'Ed25519';
  const hash = algorithm.hash?.name;
  if (typeof algorithm.name !== 'string' || !SIGNATURE_SCHEMES.has(algorithm.name)) return null;
  if (typeof hash !== 'string' || !SIGNATURE_HASHES.has(hash)) return null;
  return `${algorithm.name} with ${hash}`;
}

const cache = new WeakMap<X509Certificate, CertificateInfo>();

export function certificateInfo(
  cert: X509Certificate,
  code: CertificateErrorCode = 'CERT_UNTRUSTED',
): CertificateInfo {
  const cached = cache.get(cert);
  if (cached !== undefined) return cached;
  let info: CertificateInfo;
  try {
    const parsed = new x509.X509Certificate(cert.raw);
    const seen = new Set<string>();
    for (const extension of parsed.extensions) {
      // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
      if (seen.has(extension.type)) throw new CertificateError(code, 'certificate repeats an extension');
      seen.add(extension.type);
    }
    const basic = parsed.getExtension(x509.BasicConstraintsExtension);
    const keyUsage = parsed.getExtension(x509.KeyUsagesExtension);
    const eku = parsed.getExtension(x509.ExtendedKeyUsageExtension);
    const subject = tbsCertificateFields(cert.raw).subject;
    info = {
      notBefore: parsed.notBefore,
      notAfter: parsed.notAfter,
      basicConstraints: basic ? { ca: basic.ca, pathLength: basic.pathLength } : undefined,
      keyUsage: keyUsage ? keyUsage.usages : undefined,
      extendedKeyUsage: eku ? eku.usages.map(String) : undefined,
      unhandledCritical: parsed.extensions
        .filter((e) => e.critical && !HANDLED.has(e.type))
        .map((e) => e.type),
      subjectDer: Buffer.from(cert.raw.subarray(subject.start, subject.end)),
      hasNameConstraints: parsed.extensions.some((e) => e.type === OID.nameConstraints),
      signature: acceptedSignature(parsed),
    };
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    throw new CertificateError(code, 'certificate extensions cannot be decoded', { cause: error });
  }
  cache.set(cert, info);
  return info;
}
