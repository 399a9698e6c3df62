import { createPublicKey, randomUUID } from 'node:crypto';
import { DataSource, IsNull, QueryFailedError, Repository } from 'typeorm';
import type { AuthUser } from '../context/security-context';
import { KeypairRequestException } from '../errors/request-error.exception';
import type { CacheInvalidation, CacheInvalidationBus } from './cache-invalidation.interface';
import type { KeyAlgorithm } from './key-algorithm';
import { KeyFormatError } from './formats/key-format.error';
import { MAX_RSA_BITS } from './formats/key-limits';
import { parsePublicKey } from './formats/public-key-parser';
import { CachedLookup } from './cached-lookup';
import { LastUsedRecorder } from './last-used-recorder';
import { PublicKey } from './public-key.entity';
import type { KeyView, RegisteredKey } from './registered-key';
import { assertRoleNames } from './typeorm-user-directory';
import type { AuthUserDirectory } from './user-directory.interface';

export interface KeyRegistryOptions {
  cacheMax: number;
  cacheTtlMs: number;
  negativeTtlMs: number;
  /** Most ids remembered as unknown, per cache (default 10,000). */
  negativeMax?: number;
  lastUsedFlushIntervalMs: number;
  /**
   * Key ids of the configured HMAC shared secrets (`httpSignature.hmacKeys`). No key is
   * registered or found under them: a row that did (through SQL, say) would make the
   * shared secret pass for a signature by that key, a key proof.
   */
  reservedKeyIds?: ReadonlySet<string>;
  /** Smallest RSA modulus accepted at registration (2048; lower only in tests of old vectors). */
  minRsaBits?: number;
  /** Tells other instances to drop their cached entries (see the Redis bus). */
  invalidationBus?: CacheInvalidationBus;
}

export interface KeyRegistration {
  label?: string;
  roles?: string[] | null;
  expiresAt?: Date | null;
  algorithm?: KeyAlgorithm;
  keyId?: string;
}

const KEY_ID_PATTERN = /^[\x21-\x7e]{1,255}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Registers, finds, and revokes public keys. Lookups on the request path are served
 * from a bounded in-process cache holding parsed KeyObjects, so a steady stream from
 * known keys makes no query and parses no PEM. Unknown ids are remembered briefly, in
 * caches of their own, so a flood of random ids never evicts known keys, and one id
 * costs at most one query per `negativeTtlMs`. Revocation through this class drops the cached
 * entries at once, and voids the lookups in flight.
 */
export class KeyRegistry {
  private readonly repo: Repository<PublicKey>;
  private readonly keys: CachedLookup<RegisteredKey>;
  private readonly users: CachedLookup<AuthUser>;
  private readonly usersByName: CachedLookup<AuthUser>;
  private readonly keysByUsername: CachedLookup<readonly RegisteredKey[]>;
  private readonly listeners: ((event: CacheInvalidation) => void)[] = [];
  private readonly lastUsed: LastUsedRecorder;

  constructor(
    dataSource: DataSource,
    readonly directory: AuthUserDirectory,
    private readonly options: KeyRegistryOptions,
  ) {
    this.repo = dataSource.getRepository(PublicKey);
    const lookup = {
      max: options.cacheMax,
      ttlMs: options.cacheTtlMs,
      negativeMax: options.negativeMax ?? 10_000,
      negativeTtlMs: options.negativeTtlMs,
    };
    const byName = { ...lookup, max: Math.min(options.cacheMax, 10_000) };
    this.keys = new CachedLookup(lookup);
    this.users = new CachedLookup(lookup);
    this.usersByName = new CachedLookup(byName);
    this.keysByUsername = new CachedLookup(byName);
    this.lastUsed = new LastUsedRecorder(this.repo, options.lastUsedFlushIntervalMs);
  }

  /** Starts listening for invalidations from other instances (called once at startup). */
  async listen(): Promise<void> {
    await this.options.invalidationBus?.subscribe((event) => this.apply(event));
  }

  /**
   * Finds a key by its keyId, or by the hex SHA-256 of its PEM (the `kid` of
   * asymmetric_jwt_auth clients). Resolves null when unknown.
   */
  async findKey(kid: string): Promise<RegisteredKey | null> {
    if (this.options.reservedKeyIds?.has(kid)) return null;
    return this.keys.get(kid, async () => {
      // One query either way: a 64-hex keyId is its own key's pemSha256, so both name one row.
      const row = await this.repo.findOne({
        where: HEX_SHA256.test(kid) ? [{ keyId: kid }, { pemSha256: kid }] : { keyId: kid },
      });
      // A key above today's size cap (registered by an older version) is not used: see MAX_RSA_BITS.
      return row && !overSizeCap(row) ? toRegisteredKey(row) : null;
    });
  }

  /** findKey() answered from the cache alone: undefined when the cache does not know `kid`. */
  cachedKey(kid: string): RegisteredKey | null | undefined {
    if (this.options.reservedKeyIds?.has(kid)) return null;
    return this.keys.peek(kid);
  }

  /** findUserById() answered from the cache alone: undefined when the cache does not know the id. */
  cachedUser(userId: string): AuthUser | null | undefined {
    return this.users.peek(userId);
  }

  /** The account a key belongs to, cached like the key. */
  findUserById(userId: string): Promise<AuthUser | null> {
    return this.users.get(userId, () => this.directory.findById(userId));
  }

  /** An account by name, cached like keys (HMAC keys name their account). */
  findUserByUsername(username: string): Promise<AuthUser | null> {
    return this.usersByName.get(username, () => this.directory.findByUsername(username));
  }

  /** The keys of a user, for tokens that name a user but no key. At most `limit`, newest first. */
  async findKeysOfUsername(
    username: string,
    limit: number,
  ): Promise<{ user: AuthUser | null; keys: readonly RegisteredKey[] }> {
    const user = await this.findUserByUsername(username);
    if (!user) return { user: null, keys: [] };
    this.users.set(user.id, user);
    const keys = await this.keysByUsername.get(username, async () => {
      const rows = await this.repo.find({
        where: { userId: user.id },
        order: { createdAt: 'DESC' },
        take: limit,
      });
      return Object.freeze(rows.filter((row) => !overSizeCap(row)).map(toRegisteredKey));
    });
    return { user, keys: keys ?? [] };
  }

  /** Notes that a key was used; written in batches, never on the request path. */
  touch(keyId: string): void {
    this.lastUsed.touch(keyId);
  }

  async register(
    user: AuthUser,
    input: string | Record<string, unknown>,
    reg: KeyRegistration = {},
  ): Promise<KeyView> {
    let parsed;
    try {
      parsed = parsePublicKey(input, { algorithm: reg.algorithm, minRsaBits: this.options.minRsaBits });
    } catch (error) {
      if (error instanceof KeyFormatError) throw new KeypairRequestException(error.code, error.message);
      throw error;
    }
    const keyId = reg.keyId ?? parsed.thumbprint;
    if (this.options.reservedKeyIds?.has(keyId)) {
      throw new KeypairRequestException(
        'KEY_ID_INVALID',
        `keyId ${JSON.stringify(keyId)} is the keyid of a configured HMAC shared secret (httpSignature.hmacKeys); ` +
          'choose another, or leave it out to use the key fingerprint.',
      );
    }
    if (!KEY_ID_PATTERN.test(keyId) || (HEX_SHA256.test(keyId) && keyId !== parsed.pemSha256)) {
      throw new KeypairRequestException(
        'KEY_ID_INVALID',
        'keyId must be 1-255 printable ASCII characters without spaces, and not a 64-digit hex string ' +
          '(those are reserved for PEM hashes). Leave it out to use the key fingerprint.',
      );
    }
    const roles = reg.roles ?? null;
    if (roles !== null) {
      assertRoleNames(roles);
      const notHeld = roles.filter((r) => !user.roles.includes(r));
      if (notHeld.length > 0) {
        throw new KeypairRequestException(
          'ROLES_NOT_HELD',
          `A key's roles must be a subset of its user's roles; ${user.username} does not have: ${notHeld.join(', ')}.`,
        );
      }
    }
    if (reg.expiresAt && reg.expiresAt.getTime() <= Date.now()) {
      throw new KeypairRequestException('EXPIRY_IN_PAST', 'expiresAt must be in the future.');
    }
    if (reg.label !== undefined && (typeof reg.label !== 'string' || reg.label.length > 200)) {
      throw new KeypairRequestException('LABEL_INVALID', 'label must be a string of at most 200 characters.');
    }
    const duplicate = await this.repo.findOne({
      where: [{ fingerprint: parsed.thumbprint }, { keyId }, { pemSha256: parsed.pemSha256 }],
    });
    if (duplicate) throw duplicateKey();
    const row = this.repo.create({
      id: randomUUID(),
      keyId,
      userId: user.id,
      algorithm: parsed.algorithm,
      algorithmDefaulted: reg.algorithm === undefined && !hasJwkAlg(input),
      publicKeyPem: parsed.spkiPem,
      jwk: { ...parsed.jwk } as Record<string, string>,
      fingerprint: parsed.thumbprint,
      pemSha256: parsed.pemSha256,
      label: reg.label ?? null,
      roles: roles ? [...new Set(roles)] : null,
      createdAt: new Date(),
      expiresAt: reg.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
    });
    try {
      await this.repo.insert(row);
    } catch (error) {
      if (error instanceof QueryFailedError) throw duplicateKey();
      throw error;
    }
    this.forget(row);
    return toKeyView(row);
  }

  async listKeys(userId: string): Promise<KeyView[]> {
    await this.lastUsed.flush();
    const rows = await this.repo.find({ where: { userId }, order: { createdAt: 'ASC' } });
    return rows.map(toKeyView);
  }

  /** Looks a key up without the cache (admin paths). */
  async getKeyView(keyId: string): Promise<(KeyView & { userId: string }) | null> {
    const row = await this.repo.findOneBy({ keyId });
    return row ? { ...toKeyView(row), userId: row.userId } : null;
  }

  /** Revokes a key and drops it from this instance's cache at once. Idempotent. */
  async revoke(keyId: string): Promise<KeyView | null> {
    const row = await this.repo.findOneBy({ keyId });
    if (!row) return null;
    if (!row.revokedAt) {
      row.revokedAt = new Date();
      await this.repo.update({ id: row.id, revokedAt: IsNull() }, { revokedAt: row.revokedAt });
    }
    this.forget(row);
    return toKeyView(row);
  }

  /** Drops a user's cached record (after a role or active-flag change), here and on other instances. */
  forgetUser(userId: string): void {
    this.broadcast({ kind: 'user', userId });
  }

  private forget(row: PublicKey): void {
    this.broadcast({ kind: 'key', ids: [row.keyId, row.pemSha256] });
  }

  /** Drops cached entries of other caches keyed like keys (e.g. certificate fingerprints) on every instance. */
  invalidateIds(ids: string[]): void {
    this.broadcast({ kind: 'key', ids });
  }

  /** Lets another cache hear every invalidation, local or from other instances. */
  onInvalidation(listener: (event: CacheInvalidation) => void): void {
    this.listeners.push(listener);
  }

  /** Applies locally at once, then tells the other instances. */
  private broadcast(event: CacheInvalidation): void {
    this.apply(event);
    this.options.invalidationBus?.publish(event).catch(() => undefined);
  }

  private apply(event: CacheInvalidation): void {
    if (event.kind === 'key') {
      for (const id of event.ids) this.keys.delete(id);
    } else {
      this.users.delete(event.userId);
      this.usersByName.clear();
    }
    this.keysByUsername.clear();
    for (const listener of this.listeners) listener(event);
  }

  async close(): Promise<void> {
    await this.lastUsed.close();
    await this.options.invalidationBus?.close?.();
  }
}

function duplicateKey(): KeypairRequestException {
  return new KeypairRequestException(
    'KEY_DUPLICATE',
    'This public key, or this keyId, is already registered.',
  );
}

/**
 * Whether the key was given as a JWK that names its `alg`: that pins the algorithm
 * just as `--alg` does (RFC 7517 §4.4: the algorithm intended for use with the key).
 * A JWK can come as an object or as JSON text.
 */
function hasJwkAlg(input: string | Record<string, unknown>): boolean {
  if (typeof input !== 'string') return Object.prototype.hasOwnProperty.call(input, 'alg');
  const text = input.trim();
  if (!text.startsWith('{')) return false;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, 'alg');
  } catch {
    return true; // not JSON after all (parsePublicKey accepted it): count it as pinned, the safe side
  }
}

function overSizeCap(row: PublicKey): boolean {
  return row.jwk.kty === 'RSA' && Buffer.from(row.jwk.n ?? '', 'base64url').length * 8 > MAX_RSA_BITS;
}

function toRegisteredKey(row: PublicKey): RegisteredKey {
  return Object.freeze({
    keyId: row.keyId,
    userId: row.userId,
    algorithm: row.algorithm,
    algorithmDefaulted: row.algorithmDefaulted === true,
    keyObject: createPublicKey(row.publicKeyPem),
    roles: row.roles ? Object.freeze([...row.roles]) : null,
    fingerprint: row.fingerprint,
    pemSha256: row.pemSha256,
    expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
    revokedAt: row.revokedAt ? row.revokedAt.getTime() : null,
  });
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

export function toKeyView(row: PublicKey): KeyView {
  return {
    keyId: row.keyId,
    fingerprint: row.fingerprint,
    algorithm: row.algorithm,
    label: row.label,
    roles: row.roles,
    publicKeyPem: row.publicKeyPem,
    createdAt: row.createdAt.toISOString(),
    expiresAt: iso(row.expiresAt),
    revokedAt: iso(row.revokedAt),
    lastUsedAt: iso(row.lastUsedAt),
  };
}
