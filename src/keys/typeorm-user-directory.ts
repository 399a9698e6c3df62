import { randomUUID } from 'node:crypto';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import type { AuthUser } from '../context/security-context';
import { KeypairRequestException } from '../errors/request-error.exception';
import { AuthUserDirectory, ROLE_PATTERN, USERNAME_PATTERN } from './user-directory.interface';
import { User } from './user.entity';

function toAuthUser(u: User): AuthUser {
  return Object.freeze({
    id: u.id,
    username: u.username,
    roles: Object.freeze([...u.roles]),
    active: u.active,
  });
}

/** The default AuthUserDirectory, on the library's `keypair_auth_users` table. */
export class TypeOrmUserDirectory implements AuthUserDirectory {
  private readonly repo: Repository<User>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(User);
  }

  async findByUsername(username: string): Promise<AuthUser | null> {
    const user = await this.repo.findOneBy({ username });
    return user ? toAuthUser(user) : null;
  }

  async findById(id: string): Promise<AuthUser | null> {
    const user = await this.repo.findOneBy({ id });
    return user ? toAuthUser(user) : null;
  }

  async create(username: string, roles: string[]): Promise<AuthUser> {
    if (!USERNAME_PATTERN.test(username)) {
      throw new KeypairRequestException(
        'USERNAME_INVALID',
        'Usernames are 1-128 characters of lowercase a-z, 0-9 and . _ @ + - and start with a letter or digit.',
      );
    }
    assertRoleNames(roles);
    const user = this.repo.create({
      id: randomUUID(),
      username,
      roles: [...new Set(roles)],
      active: true,
      createdAt: new Date(),
    });
    try {
      await this.repo.insert(user);
    } catch (error) {
      if (error instanceof QueryFailedError) {
        throw new KeypairRequestException(
          'USER_EXISTS',
          `A user named ${JSON.stringify(username)} already exists.`,
          409,
        );
      }
      throw error;
    }
    return toAuthUser(user);
  }

  async list(): Promise<AuthUser[]> {
    return (await this.repo.find({ order: { username: 'ASC' } })).map(toAuthUser);
  }

  async setActive(id: string, active: boolean): Promise<void> {
    await this.repo.update({ id }, { active });
  }
}

export function assertRoleNames(roles: unknown): asserts roles is string[] {
  if (
    !Array.isArray(roles) ||
    roles.length > 64 ||
    roles.some((r) => typeof r !== 'string' || !ROLE_PATTERN.test(r))
  ) {
    throw new KeypairRequestException(
      'ROLES_INVALID',
      'Roles are an array of at most 64 names of 1-64 characters (letters, digits, and : . _ -).',
    );
  }
}
