import {
  CallHandler,
  ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { from, lastValueFrom, Observable } from 'rxjs';
import type { SecurityContext } from '../context/security-context';
import { getSecurityContext } from '../context/security-context.request';
import { IdempotencyException } from '../errors/idempotency.exception';
import { toAuthRequest } from '../http/auth-request';
import { setResponseHeader } from '../http/response-headers';
import { KEYPAIR_AUTH_OPTIONS } from '../keypair-auth.constants';
import type { ResolvedKeypairAuthOptions } from '../options/resolved-options';
import { IdempotencyAttempt, runWithIdempotencyAttempt } from './idempotency-attempt';
import { readIdempotencyKey } from './idempotency-key';
import type { ResolvedIdempotentRouteOptions } from './idempotency-options';
import {
  IDEMPOTENCY_STORE,
  IdempotencyLockRef,
  IdempotencyStore,
  IdempotencyStoreUnavailableError,
  StoredResponse,
} from './idempotency-store.interface';
import { IDEMPOTENT_METADATA } from './idempotent.constants';
import { requestFingerprint } from './request-fingerprint';
import { captureError, captureResult, notStoredResponse, replayResponse } from './stored-response';
import { exceptionForContext } from '../errors/context-exception';

/** Methods that are safe by definition: passed through even on an @Idempotent() controller. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** 4xx answers that say "try again" rather than "this request is wrong": not kept. */
const TRANSIENT_4XX = new Set([408, 425, 429]);

/**
 * Idempotency-Key handling for write routes (@Idempotent()); never on the
 * authentication path. Per request with a key:
 *
 *   parse the key → scope = the authenticated user → fingerprint of the payload
 *   → store.acquire: completed → replay | other payload → 422 | running → 409 + Retry-After
 *   → acquired → run the handler while a heartbeat extends the lock
 *   → 2xx/3xx and 4xx outcomes are stored and replayed; 5xx (and 408/425/429) release
 *     the lock so the client may retry.
 *
 * Behaviour sits in protected methods, so an app can subclass it (for example to
 * scope keys by tenant) and use its subclass with UseInterceptors().
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  protected readonly logger = new Logger('KeypairAuth:Idempotency');

  constructor(
    protected readonly reflector: Reflector,
    @Inject(KEYPAIR_AUTH_OPTIONS) protected readonly options: ResolvedKeypairAuthOptions,
    @Inject(IDEMPOTENCY_STORE) protected readonly store: IdempotencyStore,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    // A promise of our own: whatever happens to the subscription (a client that went
    // away), the attempt is always completed or released.
    return from(this.handle(context, next));
  }

  protected async handle(context: ExecutionContext, next: CallHandler): Promise<unknown> {
    const kind = context.getType<string>();
    if (kind !== 'http') {
      // @Idempotent() on a resolver or a gateway handler: there is no HTTP response to store
      // and replay (docs/graphql.md says why), and running it unprotected would break the promise.
      throw exceptionForContext(
        new IdempotencyException(
          'IDEMPOTENCY_KEY_NOT_SUPPORTED',
          `@Idempotent() works on HTTP controllers only, not on ${kind} handlers: move the write to a REST endpoint`,
        ),
        kind === 'graphql' || kind === 'ws' ? kind : 'http',
      );
    }
    const http = context.switchToHttp();
    const req = http.getRequest<{ body?: unknown }>();
    const res = http.getResponse<unknown>();
    const request = toAuthRequest(req);
    const passThrough = () => lastValueFrom(next.handle(), { defaultValue: undefined });
    if (SAFE_METHODS.has(request.method.toUpperCase())) return passThrough();

    const route = this.reflector.getAllAndOverride<ResolvedIdempotentRouteOptions | undefined>(
      IDEMPOTENT_METADATA,
      [context.getHandler(), context.getClass()],
    ) ?? { required: true };
    const settings = this.options.idempotency;
    const key = readIdempotencyKey(request.rawHeaders, settings.maxKeyLength);
    if (key === undefined) {
      if (route.required) throw new IdempotencyException('IDEMPOTENCY_KEY_MISSING');
      return passThrough();
    }
    const security = getSecurityContext(req);
    const scope = this.scopeOf(security, context);
    const lockTtlMs = route.lockTtlMs ?? settings.lockTtlMs;
    const retentionMs = Math.max(route.retentionMs ?? settings.retentionMs, lockTtlMs + 1000);
    const lock: IdempotencyLockRef = { scope, key, owner: randomBytes(16).toString('hex') };
    const fingerprint = requestFingerprint(request, req.body);

    const acquired = await this.storeCall('acquire', () =>
      this.store.acquire({ ...lock, fingerprint, lockTtlMs, retentionMs }),
    );
    switch (acquired.outcome) {
      case 'completed':
        return replayResponse(res, acquired.response);
      case 'fingerprint-mismatch':
        throw new IdempotencyException('IDEMPOTENCY_KEY_REUSED');
      case 'in-progress':
        throw this.inProgress(res, acquired.retryAfterMs);
    }

    const maxBytes = settings.maxResponseBytes;
    const attempt = new IdempotencyAttempt(
      this.store,
      lock,
      lockTtlMs,
      retentionMs,
      acquired.recoveryPoint,
      (value) => this.storable(captureResult(res, value, maxBytes), 'result'),
      () => this.inProgress(res, 1000),
    );
    const heartbeat = this.startHeartbeat(attempt);
    try {
      const value = await runWithIdempotencyAttempt(attempt, () =>
        lastValueFrom(next.handle(), { defaultValue: undefined }),
      );
      if (!attempt.completed) await this.complete(attempt, attempt.responseFor(value));
      return value;
    } catch (error) {
      await this.settleFailure(attempt, error, res);
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Whose keys these are. Keys are never global: without an authenticated user the
   * request is refused (500, logged), since one client could otherwise read another's
   * stored response. Override to scope by tenant as well.
   */
  protected scopeOf(security: SecurityContext | undefined, context: ExecutionContext): string {
    if (!security) {
      this.logger.error(
        `${context.getClass().name}.${context.getHandler().name} uses @Idempotent() but the request carries no ` +
          'SecurityContext: keys are scoped by user, so it is refused. Protect the route with KeypairAuthGuard ' +
          '(and no @Public()).',
      );
      throw new IdempotencyException('IDEMPOTENCY_REQUIRES_AUTHENTICATION');
    }
    return `user:${security.user.id}`;
  }

  /** Stores the outcome; a lost lock or a failing store cannot undo what the handler did, so both are logged. */
  protected async complete(attempt: IdempotencyAttempt, response: StoredResponse): Promise<void> {
    try {
      const done = await this.store.complete(attempt.lock, response, attempt.retentionMs);
      if (done) attempt.markCompleted();
      else {
        this.logger.error(
          `idempotency lock of key ${JSON.stringify(attempt.lock.key)} (${attempt.lock.scope}) was taken over ` +
            'before the handler finished: its outcome is not stored. Raise lockTtlSeconds, or use ' +
            'TypeOrmIdempotentEndpoint so an attempt that lost its lock rolls back.',
        );
      }
    } catch (error) {
      this.logger.error(
        `could not store the outcome of key ${JSON.stringify(attempt.lock.key)}: ${describe(error)}`,
      );
    }
  }

  /** 4xx outcomes are kept (except 408/425/429 and our own refusals); anything else releases the lock. */
  protected async settleFailure(attempt: IdempotencyAttempt, error: unknown, res: unknown): Promise<void> {
    if (attempt.completed || attempt.lost) return;
    const status = error instanceof HttpException ? error.getStatus() : 500;
    if (
      error instanceof HttpException &&
      !(error instanceof IdempotencyException) &&
      status >= 400 &&
      status < 500 &&
      !TRANSIENT_4XX.has(status)
    ) {
      await this.complete(
        attempt,
        this.storable(captureError(res, error, this.options.idempotency.maxResponseBytes), 'error'),
      );
      return;
    }
    try {
      await this.store.release(attempt.lock);
    } catch (releaseError) {
      // The lock then frees itself after lockTtlSeconds.
      this.logger.warn(
        `could not release key ${JSON.stringify(attempt.lock.key)}: ${describe(releaseError)}`,
      );
    }
  }

  private storable(response: StoredResponse | undefined, what: string): StoredResponse {
    if (response) return response;
    this.logger.error(
      `an idempotent route's ${what} is larger than idempotency.maxResponseBytes or not JSON: it is sent once, ` +
        'and retries with its key answer 500 IDEMPOTENCY_RESPONSE_NOT_STORED.',
    );
    return notStoredResponse();
  }

  private inProgress(res: unknown, retryAfterMs: number): IdempotencyException {
    setResponseHeader(res, 'Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    return new IdempotencyException('IDEMPOTENCY_IN_PROGRESS');
  }

  /** Extends the lock every third of its TTL while the handler runs; stops when it is lost. */
  private startHeartbeat(attempt: IdempotencyAttempt): NodeJS.Timeout {
    let busy = false;
    const timer: NodeJS.Timeout = setInterval(
      () => {
        if (busy || attempt.completed || attempt.inTransaction) return;
        busy = true;
        this.store
          .extend(attempt.lock, attempt.lockTtlMs)
          .then((held) => {
            if (!held && !attempt.completed) {
              attempt.lockLost();
              clearInterval(timer);
            }
          })
          .catch((error: unknown) =>
            this.logger.warn(`could not extend an idempotency lock: ${describe(error)}`),
          )
          .finally(() => (busy = false));
      },
      Math.max(50, Math.floor(attempt.lockTtlMs / 3)),
    );
    timer.unref();
    return timer;
  }

  private async storeCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      this.logger.error(`idempotency store ${what} failed: ${describe(error)}`);
      throw new IdempotencyException(
        'IDEMPOTENCY_STORE_UNAVAILABLE',
        error instanceof IdempotencyStoreUnavailableError ? error.message : describe(error),
      );
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
