import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import {
  assertClientVerified,
  certificateFingerprints,
  CertificateVerifier,
  ClientVerifyStatus,
  collectHeaderLines,
  CrlRevocationList,
  DistinguishedName,
  formatDistinguishedName,
  isCertificateError,
  parseClientVerifyStatus,
  parseDistinguishedName,
} from '../certificates';
import { certificateInfo } from '../certificates/certificate-info';
import { MAX_DN_STRING_LENGTH } from '../certificates/distinguished-name';
import { singleHeaderValue } from '../certificates/header-lines';
import { AuthUser, SecurityContext } from '../context/security-context';
import type { AuthErrorCode } from '../errors/auth-error-codes';
import { authError } from '../errors/keypair-auth.exception';
import type { KeyRegistry } from '../keys/key-registry';
import { withAuthErrors } from './certificate-errors';
import { CertificateNames, usernameFromRule } from './certificate-mapping';
import type { CertificateRegistry, RegisteredCertificate } from './certificate-registry';
import type { ResolvedClientCertificateOptions } from './client-certificate-options';

/** What the TLS layer knows about the peer of a connection this app terminates (source 'tls'). */
export interface TlsPeer {
  /** Node verified the peer's chain against the server's `ca` (`socket.authorized`). */
  readonly authorized: boolean;
  /**
   * The TLS server was given a `ca` to verify clients with, so `authorized` is a verdict to
   * require; false when it has none (Node then checks against its public roots, which says
   * nothing about client certificates). True when this cannot be told (fail closed).
   */
  readonly serverVerifies: boolean;
  /** Node's reason when not authorized, e.g. `CERT_HAS_EXPIRED`. */
  readonly authorizationError: string | null;
  /** The peer's certificate, or null when it sent none. */
  readonly leaf: X509Certificate | null;
  /** The certificates the peer sent after its own (read only when re-verifying). */
  readonly chain: () => readonly X509Certificate[];
}

/** What the client-certificate authenticator needs of a request. */
export interface ClientCertificateRequest {
  /** Node's raw header list (duplicates and order kept). */
  readonly rawHeaders: readonly string[];
  /** The TCP peer (`socket.remoteAddress`): never X-Forwarded-For, never `req.ip`. */
  readonly remoteAddress: string | undefined;
  /** The TLS peer, for connections this app terminates; null on plain HTTP. */
  readonly tls: TlsPeer | null;
}

export interface ClientCertificateSettings {
  /** Tolerance for certificate and CRL dates. */
  readonly clockSkewMs: number;
  /** Injectable clock (tests). Default Date.now. */
  readonly clock?: () => number;
  /** Where CRL reload problems are reported (the provider passes Nest's logger). */
  readonly log?: (level: 'log' | 'warn' | 'error', message: string) => void;
}

/** Names of headers that only a TLS-terminating proxy may send, whatever format is configured. */
const KNOWN_CERTIFICATE_HEADERS = new Set([
  'client-cert',
  'client-cert-chain',
  'x-forwarded-client-cert',
  'x-client-cert',
  'x-client-verify',
  'x-client-dn',
]);
const KNOWN_CERTIFICATE_HEADER_PREFIXES = [
  'x-ssl-client-',
  'ssl_client_',
  'ssl-client-',
  'x-amzn-mtls-clientcert',
];
const OTHER_CREDENTIAL_HEADERS = new Set(['authorization', 'signature', 'signature-input']);
const NO_CERTIFICATE_VERDICTS = new Set(['NONE', '', '(null)']);
const HAPROXY_NO_CERTIFICATE_VERDICTS = new Set(['0', '']);

/** Node's TLS verification errors that have a code of their own. */
const TLS_ERROR_CODES: Readonly<Record<string, AuthErrorCode>> = {
  CERT_HAS_EXPIRED: 'CERT_EXPIRED',
  CERT_NOT_YET_VALID: 'CERT_NOT_YET_VALID',
  CERT_REVOKED: 'CERT_REVOKED',
  INVALID_PURPOSE: 'CERT_EKU_MISSING',
  UNABLE_TO_GET_ISSUER_CERT: 'CERT_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'CERT_UNTRUSTED',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'CERT_UNTRUSTED',
  SELF_SIGNED_CERT_IN_CHAIN: 'CERT_UNTRUSTED',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'CERT_UNTRUSTED',
  CERT_SIGNATURE_FAILURE: 'CERT_UNTRUSTED',
  CERT_UNTRUSTED: 'CERT_UNTRUSTED',
  CERT_REJECTED: 'CERT_UNTRUSTED',
};

/** A decoded certificate and what the policy reads of it, kept between requests (see decodeForwarded). */
interface DecodedCertificate {
  readonly leaf: X509Certificate;
  readonly chain: readonly X509Certificate[];
  /** Lowercase hex SHA-256 of the DER. */
  readonly fingerprint: string;
  readonly names: CertificateNames;
  /** notBefore/notAfter in epoch ms, read once. */
  readonly validity: () => { notBefore: number; notAfter: number };
}

/**
 * The validity dates, from Node's rendering ("Nov 23 13:50:37 2026 GMT", which
 * Date parses) because the structural decoder costs about 2 ms per certificate;
 * the structural one is the fallback when Node's text does not parse.
 */
function validityOf(leaf: X509Certificate): () => { notBefore: number; notAfter: number } {
  let dates: { notBefore: number; notAfter: number } | undefined;
  return () => {
    if (dates === undefined) {
      const notBefore = Date.parse(leaf.validFrom);
      const notAfter = Date.parse(leaf.validTo);
      if (Number.isFinite(notBefore) && Number.isFinite(notAfter)) {
        dates = { notBefore, notAfter };
      } else {
        const info = certificateInfo(leaf, 'CERT_HEADER_MALFORMED');
        dates = { notBefore: info.notBefore.getTime(), notAfter: info.notAfter.getTime() };
      }
    }
    return dates;
  };
}

interface LoadedCrl {
  readonly list: CrlRevocationList;
  readonly mtimeMs: number;
  readonly size: number;
}

/**
 * Client-certificate authentication, framework-free. In order:
 *  1. trust: certificate headers count only from a configured proxy (the TCP
 *     peer); from anyone else they are refused (400 CERT_HEADER_UNTRUSTED);
 *  2. the proxy's verdict (`verifyHeader`), then the certificate in the
 *     configured format (duplicates and junk refused), or the TLS peer;
 *  3. re-verification against `caBundle` (chain, dates, clientAuth, CRL) when
 *     configured, else the leaf's dates;
 *  4. mapping: a revoked registration refuses at once; then the rules in order,
 *     by fingerprint registration or by one name in the certificate looked up
 *     as a username;
 *  5. SecurityContext `client-certificate`, keyId = the SHA-256 fingerprint,
 *     roles = user roles ∩ the registration's subset.
 */
export class ClientCertificateAuthenticator {
  private readonly clock: () => number;
  private readonly decodedByHeader = new LRUCache<string, DecodedCertificate>({
    max: 1024,
    maxSize: 16 * 1024 * 1024,
    sizeCalculation: (_value, key) => key.length + 4096,
  });
  private readonly decodedByLeaf = new WeakMap<X509Certificate, DecodedCertificate>();
  /** Certificates this instance accepted (or loaded from their registration), by fingerprint. */
  private readonly accepted = new LRUCache<string, DecodedCertificate>({ max: 10_000 });
  private verifier: CertificateVerifier | null = null;
  private crl: LoadedCrl | null = null;
  private lastCrlCheck = 0;
  private crlReload: Promise<void> | null = null;

  constructor(
    private readonly keys: KeyRegistry,
    private readonly certificates: CertificateRegistry,
    readonly options: ResolvedClientCertificateOptions,
    private readonly settings: ClientCertificateSettings,
  ) {
    this.clock = settings.clock ?? Date.now;
    this.verifier = this.buildVerifier();
    certificates.assertCertificateCurrent = (fingerprint) => this.assertCurrent(fingerprint);
  }

  /**
   * For an access token minted from a certificate: the checks of this strategy that can
   * change after minting, again (caBundle chain with the current CRL and the clock, or the
   * leaf's dates). The certificate comes from memory (the verdict is cached), or once from
   * its registration; a certificate this instance never saw and nobody registered cannot
   * be checked, and is refused (401 CERT_REVOCATION_UNKNOWN: present it again for a new token).
   */
  async assertCurrent(fingerprint: string): Promise<void> {
    let decoded = this.accepted.get(fingerprint);
    if (decoded === undefined) {
      const registered = await this.certificates.get(fingerprint);
      if (registered === null) {
        throw authError(
          'CERT_REVOCATION_UNKNOWN',
          `certificate ${fingerprint} of the access token is not known here; present the certificate for a new token`,
        );
      }
      const leaf = new X509Certificate(registered.certificatePem);
      decoded = this.describe(leaf, []);
      this.accepted.set(fingerprint, decoded);
    }
    this.maybeRefreshCrl();
    this.checkCertificate(decoded);
  }

  /** Builds the authenticator and loads the CRL; a CRL that does not load stops startup. */
  static async create(
    keys: KeyRegistry,
    certificates: CertificateRegistry,
    options: ResolvedClientCertificateOptions,
    settings: ClientCertificateSettings,
  ): Promise<ClientCertificateAuthenticator> {
    const authenticator = new ClientCertificateAuthenticator(keys, certificates, options, settings);
    await authenticator.reloadCrl();
    return authenticator;
  }

  /**
   * True when this strategy decides the request: it carries certificate headers
   * (from anyone: an untrusted peer is then refused), or, for `tls`, the peer
   * sent a certificate. A request whose proxy reports "no certificate" and that
   * carries another credential (Authorization, Signature) is left to the other
   * strategies, so JWT clients can share a proxy in `ssl_verify_client optional` mode.
   */
  claims(request: ClientCertificateRequest): boolean {
    const seen = this.scanHeaders(request.rawHeaders);
    if (seen.anyCertificateHeader && !this.options.isTrustedPeer(request.remoteAddress)) return true;
    if (this.options.source === 'tls') {
      if (request.tls === null) return false;
      return request.tls.leaf !== null || !seen.otherCredential;
    }
    if (!seen.configuredHeader) return false;
    return !(seen.otherCredential && this.presentsNoCertificate(request.rawHeaders));
  }

  async authenticate(request: ClientCertificateRequest): Promise<SecurityContext> {
    const seen = this.scanHeaders(request.rawHeaders);
    if (seen.anyCertificateHeader && !this.options.isTrustedPeer(request.remoteAddress)) {
      throw authError(
        'CERT_HEADER_UNTRUSTED',
        `certificate header(s) ${seen.certificateHeaderNames.join(', ')} from ${request.remoteAddress ?? 'an unknown peer'}, ` +
          `which is not in trustedProxies`,
      );
    }
    this.maybeRefreshCrl();
    if (this.options.source === 'tls') return this.fromTls(request.tls);
    if (this.options.parser === null) return this.fromSubjectDn(request.rawHeaders);
    return this.fromForwardedCertificate(request.rawHeaders);
  }

  /**
   * Order: "no certificate" verdicts first (CERT_MISSING), then the certificate
   * (decoded, re-verified against caBundle for a specific code such as
   * CERT_UNTRUSTED or CERT_REVOKED), then the proxy's verdict must be SUCCESS.
   */
  private async fromForwardedCertificate(rawHeaders: readonly string[]): Promise<SecurityContext> {
    const parser = this.options.parser!;
    const verdict = this.readProxyVerdict(rawHeaders, parser.headerNames[0]);
    if (verdict !== null && verdict.outcome !== 'failed' && verdict.outcome !== 'generous') {
      withAuthErrors(() => assertClientVerified(verdict));
    }
    const decoded = withAuthErrors(() => {
      try {
        return this.decodeForwarded(rawHeaders);
      } catch (error) {
        // FAILED:… without a forwarded certificate is still a failed verification.
        if (isCertificateError(error, 'CERT_MISSING') && verdict !== null) assertClientVerified(verdict);
        throw error;
      }
    });
    this.checkCertificate(decoded);
    if (verdict !== null) withAuthErrors(() => assertClientVerified(verdict));
    return this.map(decoded, decoded.names);
  }

  /**
   * The forwarded certificate, decoded once per distinct header value: the same
   * client sends the same bytes on every request, and decoding (URL, PEM, X.509,
   * then the extensions) costs far more than verifying. Only a single,
   * successfully decoded value is cached; anything else goes to the parser,
   * which refuses duplicates and junk every time.
   */
  private decodeForwarded(rawHeaders: readonly string[]): DecodedCertificate {
    const parser = this.options.parser!;
    // Null for repeated or unexpected headers: those go to the parser, which refuses them.
    const key = parser.cacheKey(rawHeaders);
    const hit = key === null ? undefined : this.decodedByHeader.get(key);
    if (hit !== undefined) return hit;
    const { leaf, chain } = parser.parse(rawHeaders);
    const decoded = this.describe(leaf, chain);
    if (key !== null) this.decodedByHeader.set(key, decoded);
    return decoded;
  }

  private describe(leaf: X509Certificate, chain: readonly X509Certificate[]): DecodedCertificate {
    const known = this.decodedByLeaf.get(leaf);
    if (known !== undefined) return known;
    const decoded: DecodedCertificate = {
      leaf,
      chain,
      fingerprint: certificateFingerprints(leaf).sha256Hex,
      names: new CertificateNames(leaf),
      validity: validityOf(leaf),
    };
    this.decodedByLeaf.set(leaf, decoded);
    return decoded;
  }

  /** The weaker legacy mode: the proxy's verdict plus an RFC 2253 subject DN, no certificate. */
  private async fromSubjectDn(rawHeaders: readonly string[]): Promise<SecurityContext> {
    const header = this.options.subjectDnHeader!;
    const verdict = this.readProxyVerdict(rawHeaders, header);
    withAuthErrors(() => assertClientVerified(verdict ?? { outcome: 'absent' }));
    const dn = withAuthErrors((): DistinguishedName => {
      const value = singleHeaderValue(collectHeaderLines(rawHeaders, header), header, MAX_DN_STRING_LENGTH);
      if (value === undefined || value === '' || value === '(null)') {
        throw authError('CERT_MISSING', `no subject DN in ${header}`);
      }
      // RFC 4514/2253 only: the OpenSSL "/C=../CN=.." form is refused by the parser.
      return parseDistinguishedName(value);
    });
    return this.map(null, new CertificateNames(null, dn), `dn:${formatDistinguishedName(dn)}`);
  }

  private fromTls(peer: TlsPeer | null): Promise<SecurityContext> {
    if (peer === null) throw authError('CERT_MISSING', 'the connection is not TLS');
    const leaf = peer.leaf;
    if (leaf === null) throw authError('CERT_MISSING', 'the TLS client presented no certificate');
    // Both checks must pass when both exist: Node's (OpenSSL enforces what the app's verifier
    // does not, e.g. name constraints) whenever the server was given a `ca`, and caBundle's.
    const requireNode = this.verifier === null || peer.serverVerifies;
    const refuseAsNode = (): void => {
      if (!requireNode || peer.authorized) return;
      const reason = peer.authorizationError ?? 'unknown';
      throw authError(TLS_ERROR_CODES[reason] ?? 'CERT_VERIFY_FAILED', `TLS verification failed: ${reason}`);
    };
    // Without caBundle Node decides first; with it, its own check runs first for the more precise code.
    if (this.verifier === null) refuseAsNode();
    const decoded = this.describe(leaf, this.verifier === null ? [] : peer.chain());
    this.checkCertificate(decoded);
    refuseAsNode();
    return this.map(decoded, decoded.names);
  }

  /**
   * The proxy's verdict (null when no verifyHeader is configured). A certificate
   * forwarded without a verdict counts as not verified (CERT_VERIFY_FAILED), not
   * as missing. Duplicated or unknown values are refused here.
   */
  private readProxyVerdict(
    rawHeaders: readonly string[],
    certificateHeader: string,
  ): ClientVerifyStatus | null {
    const header = this.options.verifyHeader;
    if (header === null) return null;
    const status = withAuthErrors(() =>
      parseClientVerifyStatus(rawHeaders, header, this.options.verifySyntax),
    );
    if (status.outcome === 'absent' && collectHeaderLines(rawHeaders, certificateHeader).length > 0) {
      throw authError(
        'CERT_VERIFY_FAILED',
        `${certificateHeader} arrived without the proxy verdict ${header}`,
      );
    }
    return status;
  }

  /** Re-verification against caBundle when configured; otherwise at least the leaf's dates. */
  private checkCertificate(decoded: DecodedCertificate): void {
    const verifier = this.verifier;
    if (verifier !== null) {
      withAuthErrors(() => verifier.verify(decoded.leaf, decoded.chain));
      this.accepted.set(decoded.fingerprint, decoded);
      return;
    }
    const { notBefore, notAfter } = withAuthErrors(() => decoded.validity());
    const now = this.clock();
    const skew = this.settings.clockSkewMs;
    if (now + skew < notBefore) {
      throw authError(
        'CERT_NOT_YET_VALID',
        `certificate not valid before ${new Date(notBefore).toISOString()}`,
      );
    }
    if (now - skew > notAfter) {
      throw authError('CERT_EXPIRED', `certificate expired at ${new Date(notAfter).toISOString()}`);
    }
    this.accepted.set(decoded.fingerprint, decoded);
  }

  private async map(
    decoded: DecodedCertificate | null,
    names: CertificateNames,
    legacyKeyId?: string,
  ): Promise<SecurityContext> {
    const fingerprint = decoded === null ? null : decoded.fingerprint;
    const keyId = fingerprint ?? legacyKeyId ?? 'unknown';
    const registration = fingerprint === null ? null : await this.certificates.findByFingerprint(fingerprint);
    if (registration !== null && registration.revokedAt !== null && registration.revokedAt <= this.clock()) {
      throw authError('CERT_REVOKED', `registration of certificate ${keyId} is revoked`);
    }
    for (const rule of this.options.mapping) {
      if (rule.by === 'fingerprint') {
        if (registration === null) continue;
        const user = await this.keys.findUserById(registration.userId);
        if (!user)
          throw authError('CERT_UNKNOWN', `owner ${registration.userId} of certificate ${keyId} not found`);
        return this.context(user, keyId, registration);
      }
      const username = withAuthErrors(() => usernameFromRule(names, rule, this.options.usernamePattern));
      if (username === undefined) continue;
      const user = await this.keys.findUserByUsername(username);
      if (!user) continue;
      if (registration !== null && registration.userId !== user.id) {
        throw authError(
          'CERT_SUBJECT_INVALID',
          `certificate ${keyId} names ${username} by ${rule.by} but is registered to another account`,
        );
      }
      return this.context(user, keyId, registration);
    }
    throw authError(
      'CERT_UNKNOWN',
      `certificate ${keyId} matches no mapping rule (${this.options.mapping.map((r) => r.by).join(', ')})`,
    );
  }

  private context(
    user: AuthUser,
    keyId: string,
    registration: RegisteredCertificate | null,
  ): SecurityContext {
    if (!user.active) throw authError('USER_INACTIVE', `user ${user.username} inactive`);
    return new SecurityContext(user, keyId, 'client-certificate', registration?.roles ?? null);
  }

  private scanHeaders(rawHeaders: readonly string[]): {
    anyCertificateHeader: boolean;
    configuredHeader: boolean;
    otherCredential: boolean;
    certificateHeaderNames: string[];
  } {
    const configured = this.options.headerNames;
    const names: string[] = [];
    let configuredHeader = false;
    let otherCredential = false;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = String(rawHeaders[i]).toLowerCase();
      if (OTHER_CREDENTIAL_HEADERS.has(name)) {
        otherCredential = true;
        continue;
      }
      const isConfigured = configured.includes(name);
      if (
        isConfigured ||
        KNOWN_CERTIFICATE_HEADERS.has(name) ||
        KNOWN_CERTIFICATE_HEADER_PREFIXES.some((prefix) => name.startsWith(prefix))
      ) {
        configuredHeader ||= isConfigured;
        if (names.length < 8 && !names.includes(name)) names.push(name);
      }
    }
    return {
      anyCertificateHeader: names.length > 0,
      configuredHeader,
      otherCredential,
      certificateHeaderNames: names,
    };
  }

  /** The proxy forwarded no certificate: its header is absent or empty and the verdict says none. */
  private presentsNoCertificate(rawHeaders: readonly string[]): boolean {
    const certificateHeader = this.options.parser?.headerNames[0] ?? this.options.subjectDnHeader!;
    const certificate = collectHeaderLines(rawHeaders, certificateHeader);
    if (certificate.some((line) => line.trim() !== '' && line.trim() !== '(null)')) return false;
    if (this.options.verifyHeader === null) return true;
    const verdict = collectHeaderLines(rawHeaders, this.options.verifyHeader);
    // HAProxy's ssl_c_verify is 0 when no certificate was presented, as when one verified.
    const none =
      this.options.verifySyntax === 'haproxy' ? HAPROXY_NO_CERTIFICATE_VERDICTS : NO_CERTIFICATE_VERDICTS;
    return verdict.length === 0 || (verdict.length === 1 && none.has(verdict[0].trim()));
  }

  /**
   * Re-reads `crlFile` when its size or modification time changed; a CRL that
   * no longer loads keeps the previous one (which fails closed once it is past
   * its nextUpdate) and is reported. Called at startup, then at most every
   * `crlRefreshSeconds` from the request path, without making a request wait.
   */
  async reloadCrl(): Promise<void> {
    const file = this.options.crlFile;
    if (file === null || this.options.trustAnchors === null) return;
    this.lastCrlCheck = this.clock();
    const info = await stat(file);
    if (this.crl !== null && this.crl.mtimeMs === info.mtimeMs && this.crl.size === info.size) return;
    const list = await CrlRevocationList.loadFile(file, this.options.trustAnchors);
    const previous = this.crl;
    this.crl = { list, mtimeMs: info.mtimeMs, size: info.size };
    this.verifier = this.buildVerifier();
    if (previous !== null) this.settings.log?.('log', `reloaded CRL ${file} (${list.revokedCount} revoked)`);
  }

  private maybeRefreshCrl(): void {
    if (this.options.crlFile === null || this.crlReload !== null) return;
    if (this.clock() - this.lastCrlCheck < this.options.crlRefreshMs) return;
    this.crlReload = this.reloadCrl()
      .catch((error: unknown) => {
        this.settings.log?.(
          'error',
          `CRL ${this.options.crlFile} could not be reloaded; keeping the previous one: ${(error as Error).message}`,
        );
      })
      .finally(() => {
        this.crlReload = null;
      });
  }

  private buildVerifier(): CertificateVerifier | null {
    const anchors = this.options.trustAnchors;
    if (anchors === null) return null;
    return new CertificateVerifier({
      trustAnchors: anchors,
      clock: () => new Date(this.clock()),
      clockToleranceSeconds: this.settings.clockSkewMs / 1000,
      requireClientAuth: this.options.requireClientAuth,
      crls: this.crl === null ? [] : [this.crl.list],
      requireRevocationCheck: this.options.requireRevocationCheck,
    });
  }
}
