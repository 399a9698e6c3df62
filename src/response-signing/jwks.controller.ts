import { Controller, Get, Inject, NotFoundException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../context/public.decorator';
import { RESPONSE_SIGNER } from './response-signing.constants';
import type { ResponseSigner } from './response-signer';

/** Publishes the server's public signing keys, newest first, old ones until removed from the options. */
@ApiTags('keys')
@Controller('.well-known')
export class JwksController {
  constructor(@Inject(RESPONSE_SIGNER) private readonly signer: ResponseSigner | null) {}

  @Public()
  @Get('jwks.json')
  jwks(): { keys: Record<string, unknown>[] } {
    if (!this.signer) throw new NotFoundException();
    return this.signer.jwks();
  }
}
