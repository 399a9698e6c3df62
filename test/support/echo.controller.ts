import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { CurrentSecurityContext, KeypairAuthGuard, SecurityContext } from '../../src';

/** A route that shows the query its handler was served, to compare with what was signed. */
@Controller('echo')
@UseGuards(KeypairAuthGuard)
export class EchoQueryController {
  @Get('query')
  query(@Query() query: unknown, @CurrentSecurityContext() ctx: SecurityContext): unknown {
    return { query, user: ctx.username };
  }
}

/** A route with a leading parameter, as multi-tenant APIs have (`/:tenant/...`). */
@Controller()
@UseGuards(KeypairAuthGuard)
export class TenantController {
  @Get(':tenant/echo/query')
  tenantQuery(@CurrentSecurityContext() ctx: SecurityContext): unknown {
    return { user: ctx.username, tenantRoute: true };
  }
}
