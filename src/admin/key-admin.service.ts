import { HttpStatus, Injectable } from '@nestjs/common';
import type { AuthUser } from '../context/security-context';
import { KeypairRequestException } from '../errors/request-error.exception';
import { KeyRegistry } from '../keys/key-registry';
import type { KeyView } from '../keys/registered-key';
import type { RegisterKeyDto } from './dto/register-key.dto';

/** What the admin and self-service controllers do, in one place (the CLI uses KeyRegistry directly). */
@Injectable()
export class KeyAdminService {
  constructor(private readonly registry: KeyRegistry) {}

  async user(username: string): Promise<AuthUser> {
    const user = await this.registry.directory.findByUsername(username);
    if (!user) throw new KeypairRequestException('USER_NOT_FOUND', 'No such user.', HttpStatus.NOT_FOUND);
    return user;
  }

  async createUser(username: string, roles: string[]): Promise<AuthUser> {
    const create = this.registry.directory.create?.bind(this.registry.directory);
    if (!create) throw notSupported('create');
    const user = await create(username, roles);
    // The name may be remembered as unknown (here and on other instances): forget that.
    this.registry.forgetUser(user.id);
    return user;
  }

  async listUsers(): Promise<AuthUser[]> {
    const list = this.registry.directory.list?.bind(this.registry.directory);
    if (!list) throw notSupported('list');
    return list();
  }

  async setActive(username: string, active: boolean): Promise<AuthUser> {
    const setActive = this.registry.directory.setActive?.bind(this.registry.directory);
    if (!setActive) throw notSupported('setActive');
    const user = await this.user(username);
    await setActive(user.id, active);
    this.registry.forgetUser(user.id);
    return { ...user, active };
  }

  registryKeys(user: AuthUser): Promise<KeyView[]> {
    return this.registry.listKeys(user.id);
  }

  register(user: AuthUser, dto: RegisterKeyDto): Promise<KeyView> {
    return this.registry.register(user, dto.publicKey, {
      label: dto.label,
      roles: dto.roles,
      expiresAt: dto.expiresAt ? new Date(dto.expiresAt) : null,
      algorithm: dto.algorithm,
      keyId: dto.keyId,
    });
  }

  async revoke(keyId: string, ownerId?: string): Promise<KeyView> {
    const key = await this.registry.getKeyView(keyId);
    // Another user's key answers exactly like a missing one.
    if (!key || (ownerId !== undefined && key.userId !== ownerId)) {
      throw new KeypairRequestException('KEY_NOT_FOUND', 'No such key.', HttpStatus.NOT_FOUND);
    }
    return (await this.registry.revoke(keyId)) as KeyView;
  }
}

function notSupported(method: string): KeypairRequestException {
  return new KeypairRequestException(
    'NOT_SUPPORTED',
    `The configured user directory does not implement ${method}(); manage users in your own system.`,
    HttpStatus.NOT_IMPLEMENTED,
  );
}
