import { HttpException, Logger } from '@nestjs/common';
import type { AuthAudit } from '../audit/auth-audit';
import { authError, KeypairAuthException } from '../errors/keypair-auth.exception';
import { toAuthRequest } from '../http/auth-request';
import { setResponseHeader } from '../http/response-headers';
import { KeyStoreUnavailableError } from '../keys/key-store-unavailable.error';
import { ReplayStoreUnavailableError } from '../stores/replay-store.interface';
import type { PassportRegistry } from './passport-registry';

/**
 * Turns whatever an authentication step threw into the client-safe exception,
 * logs it with its reason (one JSON line), and adds the 401 challenge headers.
 * Fails closed: a store that cannot answer is 503, anything unexpected is 401
 * AUTHENTICATION_FAILED (and an error log), never "authenticated anyway".
 * Shared by KeypairAuthGuard and the token endpoints, so both answer alike.
 */
export function authFailure(
  error: unknown,
  req: unknown,
  res: unknown,
  logger: Logger,
  strategies: PassportRegistry,
  audit?: AuthAudit,
): HttpException {
  let exception: HttpException;
  let reason: string;
  if (error instanceof KeypairAuthException) {
    exception = error;
    reason = error.reason;
  } else if (error instanceof KeyStoreUnavailableError || error instanceof ReplayStoreUnavailableError) {
    exception = authError('AUTH_BACKEND_UNAVAILABLE');
    reason = `${error.name}: ${error.message}`;
    logger.error(`authentication backend unavailable: ${JSON.stringify(error.message)}`);
  } else if (error instanceof HttpException) {
    exception = error;
    reason = error.message;
  } else {
    exception = authError('AUTHENTICATION_FAILED');
    reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    // Quoted as JSON, and the stack without its first line (the message again): a message
    // that carries CR/LF (a driver error quoting input, say) cannot forge another log line.
    logger.error(`unexpected error during authentication: ${JSON.stringify(reason)}`, stackFrames(error));
  }
  const request = toAuthRequest(req);
  const body = exception.getResponse() as { code?: string };
  if (audit) {
    // One audit event per decision (log line per `auditLog`, and `onAuthEvent`).
    let strategy: string | undefined;
    try {
      strategy = strategies.select(request)?.name;
    } catch {
      strategy = undefined; // the credentials were malformed; the event says what they looked like
    }
    audit.failure({ status: exception.getStatus(), code: body.code ?? null, reason }, req, strategy);
  } else {
    logger.warn(
      JSON.stringify({
        event: 'auth.failure',
        code: body.code ?? 'UNKNOWN',
        status: exception.getStatus(),
        reason: reason.slice(0, 300),
        method: request.method,
        path: request.url.split('?', 1)[0].slice(0, 200),
        remoteAddress: request.remoteAddress,
      }),
    );
  }
  // A refusal is about this request only: never let a cache keep it.
  setResponseHeader(res, 'Cache-Control', 'no-store');
  if (exception.getStatus() === 401) {
    setResponseHeader(res, 'WWW-Authenticate', strategies.entries.map((e) => e.challenge).join(', '));
    for (const entry of strategies.entries) {
      for (const [name, value] of Object.entries(entry.headers ?? {})) setResponseHeader(res, name, value);
    }
  }
  return exception;
}

/** The `at …` lines of an error's stack, without the message that heads it. */
function stackFrames(error: unknown): string | undefined {
  const stack = (error as Error | undefined)?.stack;
  if (typeof stack !== 'string') return undefined;
  const frames = stack.indexOf('\n    at ');
  return frames < 0 ? undefined : stack.slice(frames + 1);
}
