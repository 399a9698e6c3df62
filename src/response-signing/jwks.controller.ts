import { Controller, Get, Inject, NotFoundException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../context/public.decorator';
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

  @Public()
  @Get('jwks.json')
  jwks(): { keys: Record<string, unknown>[] } {
    if (!this.keyring) throw new NotFoundException();
    return this.keyring.jwks();
  }
}
