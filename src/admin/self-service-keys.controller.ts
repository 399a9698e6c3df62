import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentSecurityContext } from '../context/current-security-context.decorator';
import { SecurityContext } from '../context/security-context';
import { KeypairRequestException } from '../errors/request-error.exception';
import { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import type { KeyView } from '../keys/registered-key';
import { RegisterKeyDto } from './dto/register-key.dto';
import { KeyAdminService } from './key-admin.service';
import { strictValidation } from './validation.pipe';

/** Any authenticated caller manages its own keys here. */
@ApiTags('keys')
@ApiBearerAuth()
@Controller('keys')
@UseGuards(KeypairAuthGuard)
@UsePipes(strictValidation)
export class SelfServiceKeysController {
  constructor(private readonly keys: KeyAdminService) {}

  @Get()
  list(@CurrentSecurityContext() ctx: SecurityContext): Promise<KeyView[]> {
    return this.keys.registryKeys(ctx.user);
  }

  /**
   * A new key can never carry more than the credential that registers it: its roles
   * default to, and must be a subset of, the caller's effective roles. Otherwise a
   * `reader`-limited key could mint an unrestricted one.
   */
  @Post()
  register(@CurrentSecurityContext() ctx: SecurityContext, @Body() dto: RegisterKeyDto): Promise<KeyView> {
    const roles = dto.roles ?? [...ctx.roles];
    const exceeding = roles.filter((r) => !ctx.hasRole(r));
    if (exceeding.length > 0) {
      throw new KeypairRequestException(
        'ROLES_EXCEED_CREDENTIAL',
        `A key registered with this credential can only carry its roles; not allowed: ${exceeding.join(', ')}.`,
        403,
      );
    }
    return this.keys.register(ctx.user, { ...dto, roles });
  }

  @Delete(':keyId')
  @HttpCode(200)
  revoke(@CurrentSecurityContext() ctx: SecurityContext, @Param('keyId') keyId: string): Promise<KeyView> {
    return this.keys.revoke(keyId, ctx.user.id);
  }
}
