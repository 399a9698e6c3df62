import { Controller, Get, UseGuards } from '@nestjs/common';
import { CurrentSecurityContext, KeypairAuthGuard, Public, Roles, SecurityContext } from '../../src';

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

  @Roles('admin')
  @Get('admin')
  adminOnly(@CurrentSecurityContext() ctx: SecurityContext): { admin: string } {
    return { admin: ctx.username };
  }
}
