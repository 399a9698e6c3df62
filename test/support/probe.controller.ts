import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  CurrentSecurityContext,
  KeypairAuthGuard,
  Public,
  RequireSignature,
  Roles,
  SecurityContext,
  SignResponse,
} from '../../src';

/** A route whose responses are signed; only apps configured with responseSigning mount it. */
@Controller('probe')
@UseGuards(KeypairAuthGuard)
export class SignedProbeController {
  @SignResponse()
  @Post('signed-echo')
  @HttpCode(200)
  signedEcho(@Body() body: unknown): unknown {
    return { echo: body };
  }
}

/** Routes the e2e tests call: one open, one authenticated, one admin-only. */
@Controller('probe')
@UseGuards(KeypairAuthGuard)
export class ProbeController {
  @Public()
  @Get('open')
  open(): { open: true } {
    return { open: true };
  }

  @Get('whoami')
  whoami(@CurrentSecurityContext() ctx: SecurityContext): ReturnType<SecurityContext['toJSON']> {
    return ctx.toJSON();
  }

  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: unknown): unknown {
    return body;
  }

  @RequireSignature({ requireNonce: true, requiredComponents: ['content-type'] })
  @Post('strict')
  @HttpCode(200)
  strict(@CurrentSecurityContext() ctx: SecurityContext): { ok: string } {
    return { ok: ctx.username };
  }

  @Roles('admin')
  @Get('admin')
  adminOnly(@CurrentSecurityContext() ctx: SecurityContext): { admin: string } {
    return { admin: ctx.username };
  }
}
