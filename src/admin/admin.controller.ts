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
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Roles } from '../context/roles.decorator';
import type { AuthUser } from '../context/security-context';
import { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import type { KeyView } from '../keys/registered-key';
import { CreateUserDto } from './dto/create-user.dto';
import { RegisterKeyDto } from './dto/register-key.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { KeyAdminService } from './key-admin.service';
import { strictValidation } from './validation.pipe';

/** Admin API: users and their keys. Every route needs the `admin` role. */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin')
@UseGuards(KeypairAuthGuard)
@Roles('admin')
@UsePipes(strictValidation)
export class AdminController {
  constructor(private readonly keys: KeyAdminService) {}

  @Post('users')
  createUser(@Body() dto: CreateUserDto): Promise<AuthUser> {
    return this.keys.createUser(dto.username, dto.roles);
  }

  @Get('users')
  listUsers(): Promise<AuthUser[]> {
    return this.keys.listUsers();
  }

  @Patch('users/:username')
  updateUser(@Param('username') username: string, @Body() dto: UpdateUserDto): Promise<AuthUser> {
    return this.keys.setActive(username, dto.active);
  }

  @Post('users/:username/keys')
  async registerKey(@Param('username') username: string, @Body() dto: RegisterKeyDto): Promise<KeyView> {
    return this.keys.register(await this.keys.user(username), dto);
  }

  @Get('users/:username/keys')
  async listKeys(@Param('username') username: string): Promise<KeyView[]> {
    return this.keys.registryKeys(await this.keys.user(username));
  }

  @Delete('keys/:keyId')
  @HttpCode(200)
  revokeKey(@Param('keyId') keyId: string): Promise<KeyView> {
    return this.keys.revoke(keyId);
  }
}
