import { createHash, randomBytes } from 'node:crypto';
import { DataSource, IsNull, LessThan, MoreThan, Not, Repository } from 'typeorm';
import { KeyStoreUnavailableError } from '../keys/key-store-unavailable.error';
import { RefreshTokenRecord } from './refresh-token.entity';

/**
 * A time as the column stores it (epoch ms). Find operators (LessThan, MoreThan)
 * bypass the column transformer, and a Date there would be bound as a date string.
 */
const stored = (ms: number): Date => ms as unknown as Date;

/** What a new refresh token is issued for. */
export interface RefreshGrant {
  familyId: string;
  userId: string;
  keyId: string;
  roles: readonly string[];
  jkt: string | null;
  generation: number;
  familyExpiresAt: number;
}

/** An opaque refresh token: 32 random bytes, base64url (43 characters). */
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function isRefreshTokenFormat(token: unknown): token is string {
  return typeof token === 'string' && REFRESH_TOKEN.test(token);
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('hex');
}

/**
 * Refresh tokens on the app's database, hashed. Rotation is one conditional UPDATE
 * (`usedAt IS NULL AND revokedAt IS NULL AND expiresAt > now`): of two concurrent
 * uses of one token, exactly one changes the row, so exactly one can succeed.
 * Families are revoked by marking every row, which both the reuse check and the
 * family check see.
 */
export class RefreshTokenStore {
  private readonly repo: Repository<RefreshTokenRecord>;
  private lastSweep = 0;

  constructor(
    dataSource: DataSource,
    private readonly ttlMs: number,
    private readonly sweepIntervalMs = 60_000,
  ) {
    this.repo = dataSource.getRepository(RefreshTokenRecord);
  }

  /** Stores a new token of the grant's family; returns the token (shown once) and its expiry. */
  async create(grant: RefreshGrant, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(now + this.ttlMs, grant.familyExpiresAt);
    await this.query(() =>
      this.repo.insert({
        id: hashRefreshToken(token),
        familyId: grant.familyId,
        userId: grant.userId,
        keyId: grant.keyId,
        roles: [...grant.roles],
        jkt: grant.jkt,
        generation: grant.generation,
        createdAt: new Date(now),
        expiresAt: new Date(expiresAt),
        familyExpiresAt: new Date(grant.familyExpiresAt),
        usedAt: null,
        revokedAt: null,
      }),
    );
    this.maybeSweep(now);
    return { token, expiresAt };
  }

  find(token: string): Promise<RefreshTokenRecord | null> {
    return this.query(() => this.repo.findOneBy({ id: hashRefreshToken(token) }));
  }

  /** Marks the token used if it is still usable. True for the one caller that won. */
  async consume(id: string, now = Date.now()): Promise<boolean> {
    const result = await this.query(() =>
      this.repo.update(
        { id, usedAt: IsNull(), revokedAt: IsNull(), expiresAt: MoreThan(stored(now)) },
        { usedAt: new Date(now) },
      ),
    );
    return (result.affected ?? 0) === 1;
  }

  /** True when any token of the family has been revoked. */
  async familyRevoked(familyId: string): Promise<boolean> {
    const count = await this.query(() => this.repo.countBy({ familyId, revokedAt: Not(IsNull()) }));
    return count > 0;
  }

  revokeFamily(familyId: string, now = Date.now()): Promise<number> {
    return this.revokeWhere({ familyId }, now);
  }

  revokeUser(userId: string, now = Date.now()): Promise<number> {
    return this.revokeWhere({ userId }, now);
  }

  revokeKey(keyId: string, now = Date.now()): Promise<number> {
    return this.revokeWhere({ keyId }, now);
  }

  private async revokeWhere(
    where: { familyId: string } | { userId: string } | { keyId: string },
    now: number,
  ): Promise<number> {
    const result = await this.query(() =>
      this.repo.update({ ...where, revokedAt: IsNull() }, { revokedAt: new Date(now) }),
    );
    return result.affected ?? 0;
  }

  /** Deletes families past their maximum age, at most once per interval, off the request's path. */
  private maybeSweep(now: number): void {
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    this.repo.delete({ familyExpiresAt: LessThan(stored(now)) }).catch(() => undefined);
  }

  private async query<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new KeyStoreUnavailableError(error instanceof Error ? error.message : String(error));
    }
  }
}
