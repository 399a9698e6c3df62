import { X509Certificate } from 'node:crypto';
import { KeyUsageFlags } from '@peculiar/x509';
import { loadCertificateBundle } from './certificate-decoding';
import { CertificateError, withCertificateErrors } from './certificate-error';
import { certificateFingerprints, CertificateFingerprints } from './certificate-fingerprint';
import { certificateInfo, OID } from './certificate-info';
import { CrlRevocationList } from './crl-revocation-list';
import { certificateSerialNumber } from './serial-number';

export interface CertificateVerifierOptions {
  /** Trust anchors: PEM text with one or more certificates, or parsed certificates. */
  readonly trustAnchors: string | readonly X509Certificate[];
  /** Untrusted intermediates known to the server, for proxies that forward only the leaf. */
  readonly intermediates?: string | readonly X509Certificate[];
  /** Injectable clock (tests, or a monotonic-corrected source). Default: () => new Date(). */
  readonly clock?: () => Date;
  /** Slack applied to notBefore/notAfter and CRL update times. Default 0. */
  readonly clockToleranceSeconds?: number;
  /** Require extendedKeyUsage with clientAuth on the leaf. Default true. */
  readonly requireClientAuth?: boolean;
  /** Most intermediates between leaf and anchor. Default 5. */
  readonly maxIntermediates?: number;
  /** CRLs to consult, each already signature-checked against its CA. */
  readonly crls?: readonly CrlRevocationList[];
  /** Fail with CERT_REVOCATION_UNKNOWN when no CRL covers the leaf's issuer. Default false. */
  readonly requireRevocationCheck?: boolean;
}

export interface VerifiedCertificate {
  readonly leaf: X509Certificate;
  /** The validated path: leaf, intermediates..., trust anchor. */
  readonly path: readonly X509Certificate[];
  readonly fingerprints: CertificateFingerprints;
}

const MAX_CANDIDATE_PATHS = 16;

/**
 * Path validation for a forwarded client certificate, for deployments that
 * re-verify instead of trusting the proxy's verdict alone.
 *
 * What is checked, in this order for each candidate path (the first fully
 * valid path wins; otherwise the first path's error is reported):
 *  1. path building: issuer name/AKI match (`checkIssued`) and signature
 *     (`verify(issuer.publicKey)`) from the leaf up to a configured anchor;
 *  2. structure: leaf is not a CA; every issuer has basicConstraints cA=TRUE,
 *     keyCertSign when it has keyUsage, and its pathLenConstraint holds; no
 *     certificate has a critical extension this code does not enforce;
 *  3. validity dates of every certificate, anchor included, against the clock;
 *  4. key usage: leaf EKU contains clientAuth (when required), leaf keyUsage
 *     (if present) allows digitalSignature, and intermediates that carry an EKU
 *     allow clientAuth (OpenSSL's rule);
 *  5. revocation, for every non-anchor certificate, with each CRL that covers
 *     its issuer; a covering CRL that is not current fails closed.
 * Not implemented: name constraints and certificate policies (a critical one
 * makes the path fail), OCSP, self-issued intermediates in path length.
 */
export class CertificateVerifier {
  private readonly anchors: readonly X509Certificate[];
  private readonly intermediates: readonly X509Certificate[];
  private readonly clock: () => Date;
  private readonly toleranceMs: number;
  private readonly requireClientAuth: boolean;
  private readonly maxIntermediates: number;
  private readonly crls: readonly CrlRevocationList[];
  private readonly requireRevocationCheck: boolean;

  constructor(options: CertificateVerifierOptions) {
    const config = withCertificateErrors('CERT_CONFIG_INVALID', 'invalid certificate verifier options', () =>
      resolveOptions(options),
    );
    this.anchors = config.anchors;
    this.intermediates = config.intermediates;
    this.clock = config.clock;
    this.toleranceMs = config.toleranceMs;
    this.requireClientAuth = config.requireClientAuth;
    this.maxIntermediates = config.maxIntermediates;
    this.crls = config.crls;
    this.requireRevocationCheck = config.requireRevocationCheck;
  }

  /** Validates `leaf` with the untrusted `chain` it came with. Throws CertificateError. */
  verify(leaf: X509Certificate, chain: readonly X509Certificate[] = []): VerifiedCertificate {
    return withCertificateErrors('CERT_UNTRUSTED', 'certificate cannot be validated', () =>
      this.verifyUnchecked(leaf, chain),
    );
  }

  private verifyUnchecked(leaf: X509Certificate, chain: readonly X509Certificate[]): VerifiedCertificate {
    const now = this.clock();
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
      throw new CertificateError('CERT_CONFIG_INVALID', 'clock returned an invalid date');
    }
    if (chain.length > this.maxIntermediates * 2 + 2) {
      throw new CertificateError('CERT_UNTRUSTED', 'too many certificates sent with the leaf');
    }
    const pool: X509Certificate[] = [];
    for (const cert of [...chain, ...this.intermediates]) {
      if (!pool.some((known) => known.raw.equals(cert.raw))) pool.push(cert);
    }
    const paths = this.buildPaths(leaf, pool);
    if (paths.length === 0) {
      throw new CertificateError(
        'CERT_UNTRUSTED',
        'no path from the certificate to a configured trust anchor',
      );
    }
    let firstError: CertificateError | undefined;
    for (const path of paths) {
      const error = this.validatePath(path, now);
      if (error === undefined) return { leaf, path, fingerprints: certificateFingerprints(leaf) };
      firstError ??= error;
    }
    throw firstError ?? new CertificateError('CERT_UNTRUSTED', 'no valid path');
  }

  /** Depth-first search over signature-verified issuer links, anchors first. */
  private buildPaths(leaf: X509Certificate, pool: readonly X509Certificate[]): X509Certificate[][] {
    const paths: X509Certificate[][] = [];
    const verified = new Map<string, boolean>();
    const issuedBy = (child: X509Certificate, issuer: X509Certificate): boolean => {
      const key = `${child.fingerprint256}>${issuer.fingerprint256}`;
      let result = verified.get(key);
      if (result === undefined) {
        try {
          result = child.checkIssued(issuer) && child.verify(issuer.publicKey);
        } catch {
          result = false;
        }
        verified.set(key, result);
      }
      return result;
    };
    const isAnchor = (cert: X509Certificate): boolean =>
      this.anchors.some((anchor) => anchor.raw.equals(cert.raw));
    const search = (path: X509Certificate[]): void => {
      const current = path[path.length - 1];
      for (const anchor of this.anchors) {
        if (paths.length >= MAX_CANDIDATE_PATHS) return;
        if (issuedBy(current, anchor)) paths.push([...path, anchor]);
      }
      if (path.length - 1 >= this.maxIntermediates) return;
      for (const candidate of pool) {
        if (paths.length >= MAX_CANDIDATE_PATHS) return;
        if (isAnchor(candidate) || path.some((cert) => cert.raw.equals(candidate.raw))) continue;
        if (issuedBy(current, candidate)) search([...path, candidate]);
      }
    };
    search([leaf]);
    return paths;
  }

  private validatePath(path: readonly X509Certificate[], now: Date): CertificateError | undefined {
    const last = path.length - 1;
    const label = (i: number): string =>
      i === 0 ? 'leaf' : i === last ? 'trust anchor' : `intermediate ${i}`;
    const infos = path.map((cert) => certificateInfo(cert));

    // 2. structure
    for (let i = 0; i <= last; i++) {
      const info = infos[i];
      if (info.unhandledCritical.length > 0) {
        return new CertificateError('CERT_UNTRUSTED', `${label(i)} has an unsupported critical extension`);
      }
      if (i === 0) {
        if (info.basicConstraints?.ca === true)
          return new CertificateError('CERT_UNTRUSTED', 'leaf is a CA certificate');
        continue;
      }
      if (info.basicConstraints?.ca !== true) {
        return new CertificateError('CERT_UNTRUSTED', `${label(i)} is not a CA certificate`);
      }
      if (info.keyUsage !== undefined && (info.keyUsage & KeyUsageFlags.keyCertSign) === 0) {
        return new CertificateError('CERT_UNTRUSTED', `${label(i)} may not sign certificates (keyUsage)`);
      }
      const pathLength = info.basicConstraints.pathLength;
      if (pathLength !== undefined && i - 1 > pathLength) {
        return new CertificateError('CERT_UNTRUSTED', `${label(i)} path length constraint exceeded`);
      }
    }

    // 3. dates
    for (let i = 0; i <= last; i++) {
      if (now.getTime() + this.toleranceMs < infos[i].notBefore.getTime()) {
        return new CertificateError(
          'CERT_NOT_YET_VALID',
          `${label(i)} is not valid before ${infos[i].notBefore.toISOString()}`,
        );
      }
      if (now.getTime() - this.toleranceMs > infos[i].notAfter.getTime()) {
        return new CertificateError(
          'CERT_EXPIRED',
          `${label(i)} expired at ${infos[i].notAfter.toISOString()}`,
        );
      }
    }

    // 4. key usage
    if (this.requireClientAuth) {
      const eku = infos[0].extendedKeyUsage;
      if (eku === undefined || !eku.includes(OID.clientAuth)) {
        return new CertificateError('CERT_EKU_MISSING', 'leaf extendedKeyUsage does not include clientAuth');
      }
      for (let i = 1; i < last; i++) {
        const restriction = infos[i].extendedKeyUsage;
        if (
          restriction !== undefined &&
          !restriction.includes(OID.clientAuth) &&
          !restriction.includes(OID.anyExtendedKeyUsage)
        ) {
          return new CertificateError('CERT_EKU_MISSING', `${label(i)} extendedKeyUsage excludes clientAuth`);
        }
      }
    }
    const leafUsage = infos[0].keyUsage;
    if (leafUsage !== undefined && (leafUsage & KeyUsageFlags.digitalSignature) === 0) {
      return new CertificateError('CERT_EKU_MISSING', 'leaf keyUsage does not allow digitalSignature');
    }

    // 5. revocation
    for (let i = 0; i < last; i++) {
      const covering = this.crls.filter((crl) => crl.covers(path[i + 1]));
      if (i === 0 && covering.length === 0 && this.requireRevocationCheck) {
        return new CertificateError('CERT_REVOCATION_UNKNOWN', 'no CRL covers the issuer of the leaf');
      }
      const serial = certificateSerialNumber(path[i]);
      // RFC 5280 §4.1.2.2: at most 20 octets; CRL lookups accept up to 32.
      if (covering.length > 0 && serial.length > 64) {
        return new CertificateError('CERT_UNTRUSTED', `${label(i)} has an overlong serial number`);
      }
      for (const crl of covering) {
        if (!crl.isCurrent(now, this.toleranceMs)) {
          return new CertificateError(
            'CERT_REVOCATION_UNKNOWN',
            `the CRL covering the ${label(i)} is not current`,
          );
        }
        if (crl.isRevoked(serial)) return new CertificateError('CERT_REVOKED', `${label(i)} is revoked`);
      }
    }
    return undefined;
  }
}

function toCertificates(
  input: string | readonly X509Certificate[],
  what: string,
): readonly X509Certificate[] {
  if (typeof input === 'string') return loadCertificateBundle(input, what);
  if (input.length === 0) throw new CertificateError('CERT_CONFIG_INVALID', `${what} is empty`);
  return input;
}

interface ResolvedOptions {
  readonly anchors: readonly X509Certificate[];
  readonly intermediates: readonly X509Certificate[];
  readonly clock: () => Date;
  readonly toleranceMs: number;
  readonly requireClientAuth: boolean;
  readonly maxIntermediates: number;
  readonly crls: readonly CrlRevocationList[];
  readonly requireRevocationCheck: boolean;
}

function resolveOptions(options: CertificateVerifierOptions): ResolvedOptions {
  const anchors = toCertificates(options.trustAnchors, 'trust anchor bundle');
  const intermediates =
    options.intermediates === undefined ? [] : toCertificates(options.intermediates, 'intermediates');
  for (const cert of [...anchors, ...intermediates]) certificateInfo(cert, 'CERT_CONFIG_INVALID');
  const tolerance = options.clockToleranceSeconds ?? 0;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new CertificateError('CERT_CONFIG_INVALID', 'clockToleranceSeconds must be a non-negative number');
  }
  const maxIntermediates = options.maxIntermediates ?? 5;
  if (!Number.isSafeInteger(maxIntermediates) || maxIntermediates < 0) {
    throw new CertificateError('CERT_CONFIG_INVALID', 'maxIntermediates must be a non-negative integer');
  }
  const crls = options.crls ?? [];
  if (!crls.every((crl) => crl instanceof CrlRevocationList)) {
    throw new CertificateError('CERT_CONFIG_INVALID', 'crls must be loaded with CrlRevocationList.load');
  }
  return {
    anchors,
    intermediates,
    clock: options.clock ?? (() => new Date()),
    toleranceMs: tolerance * 1000,
    requireClientAuth: options.requireClientAuth ?? true,
    maxIntermediates,
    crls,
    requireRevocationCheck: options.requireRevocationCheck ?? false,
  };
}
