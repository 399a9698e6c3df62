import { createHash, X509Certificate } from 'node:crypto';
import { KeyUsageFlags } from '@peculiar/x509';
import { LRUCache } from 'lru-cache';
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
  /**
   * Verdicts kept per (leaf, chain), most recently used first. Default 1024; 0 turns the
   * cache off. A verdict is reused only while the clock stays between the certificate and
   * CRL dates that decided it; a verifier built with other CRLs starts with an empty cache.
   */
  readonly verdictCacheSize?: number;
}

export interface VerifiedCertificate {
  readonly leaf: X509Certificate;
  /** The validated path: leaf, intermediates..., trust anchor. */
  readonly path: readonly X509Certificate[];
  readonly fingerprints: CertificateFingerprints;
}

const MAX_CANDIDATE_PATHS = 16;
/**
 * Work limits of one path search, far above what a real chain needs (a few of each):
 * certificates appended to a partial path, and issuer checks (name match, then signature).
 * A search that reaches either limit keeps the paths it found, and without one fails closed.
 */
const MAX_SEARCH_NODES = 64;
const MAX_ISSUER_CHECKS = 128;
const DEFAULT_VERDICT_CACHE_SIZE = 1024;

/** What one verify decided, and the clock interval [from, until) in which it stays the same. */
interface Verdict {
  readonly result?: VerifiedCertificate;
  readonly error?: { readonly code: CertificateError['code']; readonly message: string };
  readonly from: number;
  readonly until: number;
}

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
 *     no certificate carries nameConstraints (critical or not: they are not
 *     evaluated here, so such a CA is refused); every key is RSA >= 2048 bits,
 *     EC P-256/P-384 or Ed25519; every signature but the anchor's own is RSA or
 *     ECDSA with SHA-256/384/512, or Ed25519 (no SHA-1, no MD5);
 *  3. validity dates of every certificate, anchor included, against the clock;
 *  4. key usage: leaf EKU contains clientAuth (when required), leaf keyUsage
 *     (if present) allows digitalSignature, and intermediates that carry an EKU
 *     allow clientAuth (OpenSSL's rule);
 *  5. revocation, for every non-anchor certificate, with each CRL that covers
 *     its issuer; a covering CRL that is not current fails closed.
 * Not implemented: name constraints (refused, see 2) and certificate policies (a
 * critical one makes the path fail), OCSP, self-issued intermediates in path length.
 *
 * Bounded work, since the chain comes from the client: of certificates with the same
 * subject, issuer and key (look-alikes) only one is tried (the one valid now, the
 * server's intermediates first); a path never holds two certificates with the same
 * subject and key (RFC 4158 loop detection); the search stops after MAX_SEARCH_NODES
 * nodes or MAX_ISSUER_CHECKS issuer checks. The verdict is cached per (leaf, chain)
 * for as long as no certificate or CRL date in play is crossed by the clock.
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
  private readonly verdicts: LRUCache<string, Verdict> | null;

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
    this.verdicts = config.verdictCacheSize === 0 ? null : new LRUCache({ max: config.verdictCacheSize });
  }

  /** Validates `leaf` with the untrusted `chain` it came with. Throws CertificateError. */
  verify(leaf: X509Certificate, chain: readonly X509Certificate[] = []): VerifiedCertificate {
    const now = this.clock();
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
      throw new CertificateError('CERT_CONFIG_INVALID', 'clock returned an invalid date');
    }
    const time = now.getTime();
    const key = this.verdicts === null ? undefined : chainDigest(leaf, chain);
    let verdict = key === undefined ? undefined : this.verdicts!.get(key);
    if (verdict === undefined || time < verdict.from || time >= verdict.until) {
      verdict = this.decide(leaf, chain, now);
      if (key !== undefined) this.verdicts!.set(key, verdict);
    }
    if (verdict.error !== undefined) throw new CertificateError(verdict.error.code, verdict.error.message);
    return verdict.result!;
  }

  /**
   * The verdict, and the interval around `now` in which no check can change its outcome:
   * between the nearest certificate or CRL dates (tolerance applied) on either side.
   */
  private decide(leaf: X509Certificate, chain: readonly X509Certificate[], now: Date): Verdict {
    const dates: number[] = [];
    let result: VerifiedCertificate | undefined;
    let error: Verdict['error'];
    try {
      result = withCertificateErrors('CERT_UNTRUSTED', 'certificate cannot be validated', () =>
        this.verifyUnchecked(leaf, chain, now, dates),
      );
    } catch (thrown) {
      const e = thrown as CertificateError;
      error = { code: e.code, message: e.message };
    }
    for (const crl of this.crls) {
      dates.push(crl.thisUpdate.getTime() - this.toleranceMs);
      if (crl.nextUpdate !== undefined) dates.push(crl.nextUpdate.getTime() + this.toleranceMs);
    }
    const time = now.getTime();
    let from = -Infinity;
    let until = Infinity;
    for (const date of dates) {
      if (Number.isNaN(date)) return { result, error, from: time, until: time }; // not cacheable
      if (date <= time) from = Math.max(from, date);
      else until = Math.min(until, date);
    }
    return { result, error, from, until };
  }

  /** `dates` collects every date a check below compared the clock with. */
  private verifyUnchecked(
    leaf: X509Certificate,
    chain: readonly X509Certificate[],
    now: Date,
    dates: number[],
  ): VerifiedCertificate {
    if (chain.length > this.maxIntermediates * 2 + 2) {
      throw new CertificateError('CERT_UNTRUSTED', 'too many certificates sent with the leaf');
    }
    const { paths, exhausted } = this.buildPaths(leaf, this.candidates(chain, now, dates));
    if (paths.length === 0) {
      throw new CertificateError(
        'CERT_UNTRUSTED',
        exhausted
          ? 'no path to a configured trust anchor within the path search limits'
          : 'no path from the certificate to a configured trust anchor',
      );
    }
    for (const cert of new Set(paths.flat())) {
      const info = certificateInfo(cert);
      dates.push(info.notBefore.getTime() - this.toleranceMs, info.notAfter.getTime() + this.toleranceMs + 1);
    }
    let firstError: CertificateError | undefined;
    for (const path of paths) {
      const error = this.validatePath(path, now);
      if (error === undefined) return { leaf, path, fingerprints: certificateFingerprints(leaf) };
      firstError ??= error;
    }
    throw firstError ?? new CertificateError('CERT_UNTRUSTED', 'no valid path');
  }

  /**
   * The possible issuers: the server's intermediates, then the chain, without duplicates,
   * and one certificate per look-alike group (same subject, issuer and key): the first
   * that is valid now, else the first.
   */
  private candidates(chain: readonly X509Certificate[], now: Date, dates: number[]): X509Certificate[] {
    const groups = new Map<string, X509Certificate[]>();
    for (const cert of [...this.intermediates, ...chain]) {
      if (this.anchors.some((anchor) => anchor.raw.equals(cert.raw))) continue;
      const key = `${cert.subject}\0${cert.issuer}\0${nameKey(cert)}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [cert]);
      else if (!group.some((known) => known.raw.equals(cert.raw))) group.push(cert);
    }
    const time = now.getTime();
    return [...groups.values()].map((group) => {
      if (group.length === 1) return group[0];
      const validNow = group.find((cert) => {
        const notBefore = Date.parse(cert.validFrom) - this.toleranceMs;
        const notAfter = Date.parse(cert.validTo) + this.toleranceMs + 1;
        dates.push(notBefore, notAfter);
        return notBefore <= time && time < notAfter;
      });
      return validNow ?? group[0];
    });
  }

  /**
   * Depth-first search over signature-verified issuer links, anchors first. A path
   * never holds two certificates with the same subject and key; the search stops
   * (`exhausted`) at MAX_SEARCH_NODES nodes or MAX_ISSUER_CHECKS issuer checks.
   */
  private buildPaths(
    leaf: X509Certificate,
    pool: readonly X509Certificate[],
  ): { paths: X509Certificate[][]; exhausted: boolean } {
    const paths: X509Certificate[][] = [];
    const verified = new Map<X509Certificate, Map<X509Certificate, boolean>>();
    let nodes = 0;
    let checks = 0;
    const exhausted = () => nodes >= MAX_SEARCH_NODES || checks >= MAX_ISSUER_CHECKS;
    const issuedBy = (child: X509Certificate, issuer: X509Certificate): boolean => {
      let byIssuer = verified.get(child);
      if (byIssuer === undefined) verified.set(child, (byIssuer = new Map()));
      let result = byIssuer.get(issuer);
      if (result === undefined) {
        checks++;
        try {
          result = child.checkIssued(issuer) && child.verify(issuer.publicKey);
        } catch {
          result = false;
        }
        byIssuer.set(issuer, result);
      }
      return result;
    };
    const search = (path: X509Certificate[], names: ReadonlySet<string>): void => {
      const current = path[path.length - 1];
      for (const anchor of this.anchors) {
        if (paths.length >= MAX_CANDIDATE_PATHS || exhausted()) return;
        if (issuedBy(current, anchor)) paths.push([...path, anchor]);
      }
      if (path.length - 1 >= this.maxIntermediates) return;
      for (const candidate of pool) {
        if (paths.length >= MAX_CANDIDATE_PATHS || exhausted()) return;
        const name = `${candidate.subject}\0${nameKey(candidate)}`;
        if (names.has(name) || !issuedBy(current, candidate)) continue;
        nodes++;
        search([...path, candidate], new Set(names).add(name));
      }
    };
    search([leaf], new Set([`${leaf.subject}\0${nameKey(leaf)}`]));
    return { paths, exhausted: exhausted() };
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

    // 2b. what this verifier cannot enforce, and what is too weak to mean anything. OpenSSL
    // (Node's TLS layer) enforces nameConstraints whether critical or not; this verifier does not
    // evaluate them, so a CA that carries them is refused rather than half-trusted.
    for (let i = 0; i <= last; i++) {
      if (infos[i].hasNameConstraints) {
        return new CertificateError(
          'CERT_UNTRUSTED',
          `${label(i)} has a nameConstraints extension: name constraints are not supported, use a CA without them`,
        );
      }
      const weakKey = weakKeyReason(path[i]);
      if (weakKey !== undefined) return new CertificateError('CERT_UNTRUSTED', `${label(i)} ${weakKey}`);
      // A trust anchor's own signature is never relied on (it is trusted by configuration).
      if (i < last && infos[i].signature === null) {
        return new CertificateError(
          'CERT_UNTRUSTED',
          `${label(i)} is signed with an algorithm refused here (SHA-1, MD5 or unknown); ` +
            'accepted: RSA or ECDSA with SHA-256/384/512, Ed25519',
        );
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

/** Curves accepted for EC keys in a path (Node's names for P-256 and P-384). */
const EC_CURVES = new Set(['prime256v1', 'secp384r1']);
const MIN_RSA_BITS = 2048;

/**
 * Why the certificate's public key is too weak or of a kind refused here, or undefined.
 * The floor: RSA (and RSA-PSS) of at least 2048 bits, EC on P-256 or P-384, Ed25519.
 */
function weakKeyReason(cert: X509Certificate): string | undefined {
  const key = cert.publicKey;
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    return bits >= MIN_RSA_BITS
      ? undefined
      : `has an RSA key of ${bits} bits (at least ${MIN_RSA_BITS} required)`;
  }
  if (type === 'ec') {
    return EC_CURVES.has(details.namedCurve ?? '')
      ? undefined
      : `has an EC key on ${details.namedCurve ?? 'an unknown curve'} (P-256 or P-384 required)`;
  }
  if (type === 'ed25519') return undefined;
  return `has a ${type ?? 'unknown'} key (RSA of 2048 bits or more, EC P-256/P-384 or Ed25519 required)`;
}

/** The subject public key (SPKI DER, base64), read once per certificate object. */
const spkiOf = new WeakMap<X509Certificate, string>();
function nameKey(cert: X509Certificate): string {
  let spki = spkiOf.get(cert);
  if (spki === undefined) {
    spki = cert.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    spkiOf.set(cert, spki);
  }
  return spki;
}

/** SHA-256 over the leaf and the chain, each length-prefixed: the verdict cache key. */
function chainDigest(leaf: X509Certificate, chain: readonly X509Certificate[]): string {
  const hash = createHash('sha256');
  const length = Buffer.alloc(4);
  for (const cert of [leaf, ...chain]) {
    length.writeUInt32BE(cert.raw.length);
    hash.update(length).update(cert.raw);
  }
  return hash.digest('base64');
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
  readonly verdictCacheSize: number;
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
  const verdictCacheSize = options.verdictCacheSize ?? DEFAULT_VERDICT_CACHE_SIZE;
  if (!Number.isSafeInteger(verdictCacheSize) || verdictCacheSize < 0) {
    throw new CertificateError('CERT_CONFIG_INVALID', 'verdictCacheSize must be a non-negative integer');
  }
  return {
    verdictCacheSize,
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
