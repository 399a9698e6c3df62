import { Controller, Get, Inject, NotFoundException } from '@nestjs/common';
import { Public } from '../context/public.decorator';
import { JwksSchema } from '../openapi/response.schemas';
import { ApiOperation, ApiResponse, ApiTags } from '../openapi/swagger.decorators';
import { SERVER_KEYRING } from './response-signing.constants';
import type { ServerKeyring } from './server-keyring';

/**
 * Publishes the server keyring's public keys, newest first, old ones until removed
 * from the options: they verify signed responses and the access tokens this server issues.
 */
@ApiTags('keys')
@Controller('.well-known')
export class JwksController {
  constructor(@Inject(SERVER_KEYRING) private readonly keyring: ServerKeyring | null) {}

  @ApiOperation({
    summary: "The server's public keys (JWKS)",
    description: 'Verify signed responses and the access tokens this server issues with them.',
  })
  @ApiResponse({ status: 200, description: 'A JWK Set.', type: JwksSchema })
  @ApiResponse({ status: 404, description: 'Not Found: responseSigning.keys is not configured.' })
  @Public()
  @Get('jwks.json')
  jwks(): { keys: Record<string, unknown>[] } {
    if (!this.keyring) throw new NotFoundException();
    return this.keyring.jwks();
  }
}
