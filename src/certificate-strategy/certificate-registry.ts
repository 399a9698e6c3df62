import { randomUUID, X509Certificate } from 'node:crypto';
import { DataSource, IsNull, QueryFailedError, Repository } from 'typeorm';
import {
  certificateFingerprints,
  certificateSerialNumber,
  formatDistinguishedName,
  loadCertificateBundle,
  readCertificateIssuer,
  readCertificateSubject,
} from '../certificates';
import { certificateInfo } from '../certificates/certificate-info';
import type { AuthUser } from '../context/security-context';
import { KeypairRequestException } from '../errors/request-error.exception';
import { CachedLookup } from '../keys/cached-lookup';
import type { KeyRegistry } from '../keys/key-registry';
import { assertRoleNames } from '../keys/typeorm-user-directory';
import { ClientCertificate } from './client-certificate.entity';

export interface CertificateRegistryOptions {
  cacheMax: number;
  cacheTtlMs: number;
  negativeTtlMs: number;
  /** Shares the key registry's invalidations, so a revocation reaches every instance's cache. */
  keyRegistry?: KeyRegistry;
}

export interface CertificateRegistration {
  label?: string;
  roles?: string[] | null;
}

/** A registered certificate as the request path sees it (what the cache holds). */
export interface RegisteredCertificate {
  readonly fingerprint: string;
  readonly userId: string;
  readonly roles: readonly string[] | null;
  readonly revokedAt: number | null;
}

/** What the admin API and the CLI return about a registered certificate. */
export interface CertificateView {
  fingerprint: string;
  /** The same SHA-256 as base64url: the `x5t#S256` / RFC 8705 `cnf` value. */
  x5tS256: string;
  subject: string;
  issuer: string;
  serialNumber: string;
  label: string | null;
  roles: string[] | null;
  notBefore: string;
  notAfter: string;
  createdAt: string;
  revokedAt: string | null;
  certificatePem: string;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * The canonical form of a certificate fingerprint (lowercase hex SHA-256 of the
 * DER, no colons), from any case and with or without colons; null when it is not one.
 */
export function normalizeCertificateFingerprint(value: string): string | null {
  if (typeof value !== 'string') return null;
  const compact = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/.test(value) ? value.replace(/:/g, '') : value;
  const lower = compact.toLowerCase();
  return HEX_SHA256.test(lower) ? lower : null;
}

/**
 * Registers, finds and revokes client certificates by fingerprint. Like the
 * KeyRegistry, lookups on the request path come from a bounded LRU cache,
 * unknown fingerprints are remembered for `negativeTtlMs` so random
 * certificates cannot flood the database, and revoking through this class drops
 * the entry at once (changes made behind its back are seen after `cacheTtlMs`).
 */
export class CertificateRegistry {
  private readonly repo: Repository<ClientCertificate>;
  private readonly cache: CachedLookup<RegisteredCertificate>;

  constructor(
    dataSource: DataSource,
    private readonly options: CertificateRegistryOptions,
  ) {
    this.repo = dataSource.getRepository(ClientCertificate);
    this.cache = new CachedLookup({
      max: options.cacheMax,
      ttlMs: options.cacheTtlMs,
      negativeTtlMs: options.negativeTtlMs,
    });
    options.keyRegistry?.onInvalidation((event) => {
      if (event.kind === 'key') for (const id of event.ids) this.cache.delete(id);
    });
  }

  /** The registration of a certificate (lowercase hex SHA-256), or null. Cache first. */
  findByFingerprint(fingerprint: string): Promise<RegisteredCertificate | null> {
    return this.cache.get(fingerprint, async () => {
      const row = await this.repo.findOneBy({ fingerprint });
      return row ? toRegistered(row) : null;
    });
  }

  /**
   * Throws the coded 401 of the certificate strategy (CERT_EXPIRED, CERT_REVOKED, ...)
   * when the certificate with this fingerprint would no longer authenticate: for access
   * tokens minted from it. Set by the client-certificate authenticator; without one, a no-op.
   */
  assertCertificateCurrent: (fingerprint: string) => Promise<void> = async () => undefined;

  /** Drops a fingerprint from this instance's cache and, through the key registry, every other's. */
  private forget(fingerprint: string): void {
    this.cache.delete(fingerprint);
    this.options.keyRegistry?.invalidateIds([fingerprint]);
  }

  /**
   * Registers one PEM certificate for `user`. Refused with 400 and a code: not a
   * single certificate (CERTIFICATE_INVALID), a private key in the text
   * (KEY_IS_PRIVATE), a CA certificate (CERTIFICATE_INVALID), an expired one
   * (CERTIFICATE_EXPIRED), roles the user lacks (ROLES_NOT_HELD), a duplicate
   * (CERTIFICATE_DUPLICATE).
   */
  async register(user: AuthUser, pem: string, reg: CertificateRegistration = {}): Promise<CertificateView> {
    if (typeof pem !== 'string' || PRIVATE_KEY.test(pem)) {
      throw new KeypairRequestException(
        'KEY_IS_PRIVATE',
        'This text contains a private key. Send only the certificate; keep the key where it is.',
      );
    }
    const certificate = parseOneCertificate(pem);
    const info = certificateInfo(certificate, 'CERT_CONFIG_INVALID');
    if (info.basicConstraints?.ca === true) {
      throw new KeypairRequestException(
        'CERTIFICATE_INVALID',
        'This is a CA certificate; register the client certificate it issued.',
      );
    }
    if (info.notAfter.getTime() <= Date.now()) {
      throw new KeypairRequestException('CERTIFICATE_EXPIRED', 'The certificate has already expired.');
    }
    const roles = reg.roles ?? null;
    if (roles !== null) {
      assertRoleNames(roles);
      const notHeld = roles.filter((r) => !user.roles.includes(r));
      if (notHeld.length > 0) {
        throw new KeypairRequestException(
          'ROLES_NOT_HELD',
          `A certificate's roles must be a subset of its user's roles; ${user.username} does not have: ${notHeld.join(', ')}.`,
        );
      }
    }
    if (reg.label !== undefined && (typeof reg.label !== 'string' || reg.label.length > 200)) {
      throw new KeypairRequestException('LABEL_INVALID', 'label must be a string of at most 200 characters.');
    }
    const { sha256Hex } = certificateFingerprints(certificate);
    if (await this.repo.findOneBy({ fingerprint: sha256Hex })) throw duplicate();
    const row = this.repo.create({
      id: randomUUID(),
      fingerprint: sha256Hex,
      userId: user.id,
      certificatePem: certificate.toString(),
      subject: formatDistinguishedName(readCertificateSubject(certificate)),
      issuer: formatDistinguishedName(readCertificateIssuer(certificate)),
      serialNumber: certificateSerialNumber(certificate),
      label: reg.label ?? null,
      roles: roles ? [...new Set(roles)] : null,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      createdAt: new Date(),
      revokedAt: null,
    });
    try {
      await this.repo.insert(row);
    } catch (error) {
      if (error instanceof QueryFailedError) throw duplicate();
      throw error;
    }
    this.forget(sha256Hex);
    return toView(row);
  }

  async list(userId: string): Promise<CertificateView[]> {
    const rows = await this.repo.find({ where: { userId }, order: { createdAt: 'ASC' } });
    return rows.map(toView);
  }

  /** A registration without the cache (admin paths). */
  async get(fingerprint: string): Promise<(CertificateView & { userId: string }) | null> {
    const row = await this.repo.findOneBy({ fingerprint });
    return row ? { ...toView(row), userId: row.userId } : null;
  }

  /** Revokes a registration and drops it from this instance's cache at once. Idempotent. */
  async revoke(fingerprint: string): Promise<CertificateView | null> {
    const row = await this.repo.findOneBy({ fingerprint });
    if (!row) return null;
    if (!row.revokedAt) {
      row.revokedAt = new Date();
      await this.repo.update({ id: row.id, revokedAt: IsNull() }, { revokedAt: row.revokedAt });
    }
    this.forget(fingerprint);
    return toView(row);
  }
}

function parseOneCertificate(pem: string): X509Certificate {
  let certificates: X509Certificate[];
  try {
    certificates = loadCertificateBundle(pem, 'certificate');
  } catch {
    throw new KeypairRequestException(
      'CERTIFICATE_INVALID',
      'certificate must be one PEM "-----BEGIN CERTIFICATE-----" block.',
    );
  }
  if (certificates.length !== 1) {
    throw new KeypairRequestException(
      'CERTIFICATE_INVALID',
      `certificate must be one PEM block, not ${certificates.length}; register the leaf only, without its chain.`,
    );
  }
  return certificates[0];
}

function duplicate(): KeypairRequestException {
  return new KeypairRequestException('CERTIFICATE_DUPLICATE', 'This certificate is already registered.');
}

function toRegistered(row: ClientCertificate): RegisteredCertificate {
  return Object.freeze({
    fingerprint: row.fingerprint,
    userId: row.userId,
    roles: row.roles ? Object.freeze([...row.roles]) : null,
    revokedAt: row.revokedAt ? row.revokedAt.getTime() : null,
  });
}

function toView(row: ClientCertificate): CertificateView {
  return {
    fingerprint: row.fingerprint,
    x5tS256: Buffer.from(row.fingerprint, 'hex').toString('base64url'),
    subject: row.subject,
    issuer: row.issuer,
    serialNumber: row.serialNumber,
    label: row.label,
    roles: row.roles,
    notBefore: row.notBefore.toISOString(),
    notAfter: row.notAfter.toISOString(),
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt ? row.revokedAt.toISOString() : null,
    certificatePem: row.certificatePem,
  };
}
