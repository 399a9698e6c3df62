import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { Roles } from '../context/roles.decorator';
import type { AuthUser } from '../context/security-context';
import { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import { NotAnAgentGuard } from '../web-bot-auth/not-an-agent.guard';
import type { KeyView } from '../keys/registered-key';
import { KeypairApiOperation } from '../openapi/api-operation.decorator';
import { OPERATION_ERRORS as ERRORS } from '../openapi/documented-errors';
import { KeySchema, UserSchema } from '../openapi/response.schemas';
import { ApiTags } from '../openapi/swagger.decorators';
import { CreateUserDto } from './dto/create-user.dto';
import { RegisterKeyDto } from './dto/register-key.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { KeyAdminService } from './key-admin.service';
import { strictValidation } from './validation.pipe';

/** Admin API: users and their keys. Every route needs the `admin` role. */
@ApiTags('admin')
@Controller('admin')
@UseGuards(KeypairAuthGuard, NotAnAgentGuard)
@Roles('admin')
@UsePipes(strictValidation)
export class AdminController {
  constructor(private readonly keys: KeyAdminService) {}

  @KeypairApiOperation({
    summary: 'Create a user',
    access: 'admin',
    errors: ERRORS.createUser,
    ok: { status: 201, description: 'The new user.', type: UserSchema },
  })
  @Post('users')
  createUser(@Body() dto: CreateUserDto): Promise<AuthUser> {
    return this.keys.createUser(dto.username, dto.roles);
  }

  @KeypairApiOperation({
    summary: 'List users',
    access: 'admin',
    errors: ERRORS.listUsers,
    ok: { description: 'Every user.', type: [UserSchema] },
  })
  @Get('users')
  listUsers(): Promise<AuthUser[]> {
    return this.keys.listUsers();
  }

  @KeypairApiOperation({
    summary: 'Deactivate or reactivate a user',
    description: 'Effective at once on this instance, within keyCache.ttlSeconds on the others.',
    access: 'admin',
    errors: ERRORS.updateUser,
    ok: { description: 'The user as it is now.', type: UserSchema },
  })
  @Patch('users/:username')
  updateUser(@Param('username') username: string, @Body() dto: UpdateUserDto): Promise<AuthUser> {
    return this.keys.setActive(username, dto.active);
  }

  @KeypairApiOperation({
    summary: "Register a user's public key",
    description: 'SPKI PEM, an OpenSSH public key line, or a JWK. Answers its keyId and fingerprint.',
    access: 'admin',
    errors: ERRORS.registerKey,
    ok: { status: 201, description: 'The registered key.', type: KeySchema },
  })
  @Post('users/:username/keys')
  async registerKey(@Param('username') username: string, @Body() dto: RegisterKeyDto): Promise<KeyView> {
    return this.keys.register(await this.keys.user(username), dto);
  }

  @KeypairApiOperation({
    summary: "List a user's keys",
    access: 'admin',
    errors: ERRORS.listKeys,
    ok: { description: 'Every key of the user, revoked ones included.', type: [KeySchema] },
  })
  @Get('users/:username/keys')
  async listKeys(@Param('username') username: string): Promise<KeyView[]> {
    return this.keys.registryKeys(await this.keys.user(username));
  }

  @KeypairApiOperation({
    summary: 'Revoke a key',
    description: 'Effective at once on this instance, within keyCache.ttlSeconds on the others.',
    access: 'admin',
    errors: ERRORS.revokeKey,
    ok: { description: 'The revoked key.', type: KeySchema },
  })
  @Delete('keys/:keyId')
  @HttpCode(200)
  revokeKey(@Param('keyId') keyId: string): Promise<KeyView> {
    return this.keys.revoke(keyId);
  }
}
