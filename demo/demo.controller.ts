import { Body, Controller, Get, HttpCode, Post, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ApiKeypairAuth,
  CurrentSecurityContext,
  KeypairAuthHealth,
  KeypairAuthHealthReport,
  Public,
  SecurityContext,
  SignResponse,
} from '../src';
import { DemoIdentity, identityOf } from './identity';

/** Its answers are signed with the server key (RFC 9421 §2.4): `request … --verify-with …/jwks.json` checks them. */
@ApiTags('demo')
@SignResponse()
@Controller()
export class DemoController {
  constructor(private readonly health: KeypairAuthHealth) {}

  /** 200 with the state of the database and replay store, or 503 when one is down. */
  @Public()
  @ApiOperation({ summary: 'The state of the database and the replay store (public)' })
  @ApiResponse({ status: 200, description: 'Both are up: {status: "ok", database, replayStore}' })
  @ApiResponse({ status: 503, description: 'The database or the replay store is down' })
  @Get('health')
  async check(): Promise<KeypairAuthHealthReport> {
    const report = await this.health.check();
    if (report.status !== 'ok') throw new ServiceUnavailableException(report);
    return report;
  }

  /** Who the caller is, as the SecurityContext says. */
  @ApiOperation({ summary: 'Who the caller is: username, keyId, method and roles (a signed answer)' })
  @ApiKeypairAuth()
  @Get('whoami')
  whoami(@CurrentSecurityContext() ctx: SecurityContext): DemoIdentity {
    return identityOf(ctx);
  }

  /** Returns the JSON body it received, so digests and signatures can be tried by hand. */
  @ApiOperation({ summary: 'The JSON body it received, in a signed answer' })
  @ApiKeypairAuth()
  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: unknown): unknown {
    return body;
  }
}
