import {
  Body,
  Controller,
  HttpCode,
  HttpException,
  Injectable,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  CurrentSecurityContext,
  Idempotent,
  IdempotentEndpoint,
  Public,
  RecoverableIdempotentEndpoint,
  RecoverySteps,
  SecurityContext,
} from '../../../src';
import { setResponseHeader } from '../../../src/http/response-headers';

/** How often each probe ran, so tests can tell a replay from a second execution. */
export const RUNS: Record<string, number> = {};
const ran = (name: string): number => (RUNS[name] = (RUNS[name] ?? 0) + 1);

/** A plain IdempotentEndpoint. */
@Injectable()
export class CounterEndpoint extends IdempotentEndpoint<{ by: number }, number, { total: number }> {
  private total = 0;
  protected loadState(): number {
    return this.total;
  }
  protected updateState(state: number, { by }: { by: number }): number {
    this.total = state + by;
    ran('counter');
    return this.total;
  }
  protected getResponse(total: number): { total: number } {
    return { total };
  }
}

/** Calls "external systems" in steps; the email step fails once with 503 when asked to. */
@Injectable()
export class PaymentEndpoint extends RecoverableIdempotentEndpoint<
  { failEmailOnce: boolean },
  { resumedFrom: string | null },
  { chargeId: string; emailed: boolean; resumedFrom: string | null }
> {
  private failed = false;
  protected loadState(_input: unknown, steps: RecoverySteps): { resumedFrom: string | null } {
    return { resumedFrom: steps.resumedFrom };
  }
  protected async updateState(
    state: { resumedFrom: string | null },
    input: { failEmailOnce: boolean },
    steps: RecoverySteps,
  ): Promise<{ resumedFrom: string | null; chargeId: string; emailed: boolean }> {
    const charge = await steps.run('charge', () => ({ id: `ch_${ran('charge')}` }));
    const emailed = await steps.run('email', () => {
      ran('email');
      if (input.failEmailOnce && !this.failed) {
        this.failed = true;
        throw new HttpException('mail server down', 503);
      }
      return true;
    });
    return { ...state, chargeId: charge.id, emailed };
  }
  protected getResponse(state: { resumedFrom: string | null; chargeId: string; emailed: boolean }) {
    return state;
  }
}

@Controller('idem')
export class IdempotencyProbeController {
  constructor(
    private readonly counter: CounterEndpoint,
    private readonly payment: PaymentEndpoint,
  ) {}

  /** Sets a Location header and a custom status; returns what it got and how often it ran. */
  @Post('echo')
  @HttpCode(202)
  @Idempotent()
  echo(
    @Body() body: unknown,
    @CurrentSecurityContext() ctx: SecurityContext,
    @Res({ passthrough: true }) res: unknown,
  ): unknown {
    const n = ran('echo');
    setResponseHeader(res, 'Location', `/idem/echo/${n}`);
    setResponseHeader(res, 'Set-Cookie', 'secret=1');
    return { user: ctx.username, body, n };
  }

  @Post('fail/:status')
  @Idempotent()
  fail(@Param('status') status: string): never {
    ran(`fail-${status}`);
    throw new HttpException({ code: 'PROBE_FAILED', status: Number(status) }, Number(status));
  }

  @Post('crash')
  @Idempotent()
  crash(): never {
    ran('crash');
    throw new Error('unexpected');
  }

  @Public()
  @Post('public')
  @Idempotent()
  open(): { ok: true } {
    ran('public');
    return { ok: true };
  }

  @Post('optional')
  @Idempotent({ required: false })
  optional(): { n: number } {
    return { n: ran('optional') };
  }

  @Post('big')
  @Idempotent()
  big(@Query('size') size: string): { data: string; n: number } {
    return { data: 'x'.repeat(Number(size)), n: ran('big') };
  }

  @Post('slow')
  @Idempotent({ lockTtlSeconds: 1 })
  async slow(): Promise<{ n: number }> {
    const n = ran('slow');
    await new Promise((r) => setTimeout(r, 2500));
    return { n };
  }

  @Post('counter')
  @Idempotent()
  count(@Body() body: { by: number }): Promise<{ total: number }> {
    return this.counter.execute({ by: body.by });
  }

  /** The endpoint class without @Idempotent(): refused. */
  @Post('counter-unguarded')
  countUnguarded(@Body() body: { by: number }): Promise<{ total: number }> {
    return this.counter.execute({ by: body.by });
  }

  @Post('pay')
  @Idempotent()
  pay(@Query('failEmailOnce') failEmailOnce?: string) {
    return this.payment.execute({ failEmailOnce: failEmailOnce === '1' });
  }
}
