import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentSecurityContext, Public, SecurityContext } from '../src';

@ApiTags('demo')
@Controller()
export class DemoController {
  @Public()
  @Get('health')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Who the caller is, as the SecurityContext says. */
  @ApiBearerAuth()
  @Get('whoami')
  whoami(@CurrentSecurityContext() ctx: SecurityContext): {
    username: string;
    keyId: string;
    method: string;
    roles: readonly string[];
  } {
    return { username: ctx.username, keyId: ctx.keyId, method: ctx.method, roles: ctx.roles };
  }

  /** Returns the JSON body it received, so digests and signatures can be tried by hand. */
  @ApiBearerAuth()
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: unknown): unknown {
    return body;
  }
}
