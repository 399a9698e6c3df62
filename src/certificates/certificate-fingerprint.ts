import { createHash, X509Certificate } from 'node:crypto';

export interface CertificateFingerprints {
  /** SHA-256 of the DER certificate, lowercase hex without colons: the key for fingerprint-based user mapping. */
  readonly sha256Hex: string;
  /** The same digest as base64url without padding: the JWK `x5t#S256` / RFC 8705 `cnf` value for token binding. */
  readonly x5tS256: string;
}

export function certificateFingerprints(cert: X509Certificate): CertificateFingerprints {
  const digest = createHash('sha256').update(cert.raw).digest();
  return { sha256Hex: digest.toString('hex'), x5tS256: digest.toString('base64url') };
}
