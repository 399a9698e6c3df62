import { Controller, HttpCode, Inject, Param, Post, UseGuards, UsePipes } from '@nestjs/common';
import { KeyAdminService } from '../admin/key-admin.service';
import { strictValidation } from '../admin/validation.pipe';
import { Roles } from '../context/roles.decorator';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { authError } from '../errors/keypair-auth.exception';
import { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import { NotAnAgentGuard } from '../web-bot-auth/not-an-agent.guard';
import { KeyStoreUnavailableError } from '../keys/key-store-unavailable.error';
import { KeypairApiOperation } from '../openapi/api-operation.decorator';
import { OPERATION_ERRORS as ERRORS } from '../openapi/documented-errors';
import { UserTokensRevokedSchema } from '../openapi/response.schemas';
import { ApiTags } from '../openapi/swagger.decorators';
import { TokenService } from './token.service';

/** `POST /admin/users/:username/revoke-tokens` (role admin): ends every token of a user. */
@ApiTags('admin')
@Controller('admin')
@UseGuards(KeypairAuthGuard, NotAnAgentGuard)
@Roles('admin')
@UsePipes(strictValidation)
export class TokenAdminController {
  private readonly service: TokenService;

  constructor(
    @Inject(TokenService) service: TokenService | null,
    private readonly keys: KeyAdminService,
  ) {
    if (!service) {
      throw ConfigError.create(
        'the token admin endpoint is mounted but the tokens option is not set.',
        'Pass tokens: {} to KeypairAuthModule.forRoot(), or leave tokenApi out.',
      );
    }
    this.service = service;
  }

  /**
   * Bumps the user's token generation and revokes their refresh-token families:
   * access tokens are refused at once on this instance and within keyCache.ttlSeconds
   * on the others; refresh tokens at once everywhere.
   */
  @KeypairApiOperation({
    summary: 'Revoke every token of a user',
    description:
      'Access tokens are refused at once on this instance and within keyCache.ttlSeconds on the others; ' +
      'refresh tokens at once everywhere.',
    access: 'admin',
    errors: ERRORS.revokeUserTokens,
    ok: { description: "The user's new token generation.", type: UserTokensRevokedSchema },
  })
  @Post('users/:username/revoke-tokens')
  @HttpCode(200)
  async revokeTokens(
    @Param('username') username: string,
  ): Promise<{ username: string; generation: number; refreshTokensRevoked: number }> {
    const user = await this.keys.user(username);
    try {
      return { username: user.username, ...(await this.service.revokeUserTokens(user.id)) };
    } catch (error) {
      if (error instanceof KeyStoreUnavailableError)
        throw authError('AUTH_BACKEND_UNAVAILABLE', error.message);
      throw error;
    }
  }
}
