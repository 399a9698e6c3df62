import {
  CanActivate,
  ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Logger,
  Optional,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthAudit } from '../audit/auth-audit';
import { ALLOW_CACHING_METADATA } from '../context/allow-caching.decorator';
import { PUBLIC_METADATA } from '../context/public.decorator';
import { isConnectionRequest, markConnectionRequest } from '../context/connection-requests';
import { ExecutionTarget, executionTarget, graphqlContextRequest } from '../context/execution-target';
import { ROLES_METADATA } from '../context/roles.decorator';
import { assertRoles } from '../context/roles.guard';
import { SecurityContext } from '../context/security-context';
import {
  getSecurityContext,
  RequestWithSecurityContext,
  SECURITY_CONTEXT_PROPERTY,
} from '../context/security-context.request';
import { exceptionForContext } from '../errors/context-exception';
import { IdempotencyException } from '../errors/idempotency.exception';
import { authError } from '../errors/keypair-auth.exception';
import { AuthRequest, headerValues, toAuthRequest } from '../http/auth-request';
import { readAuthorization } from '../http/authorization-header';
import { setResponseHeader } from '../http/response-headers';
import { KEYPAIR_AUTH_PASSPORT } from '../keypair-auth.internal-constants';
import { SIGNATURE_POLICY_METADATA } from '../signature-strategy/require-signature.decorator';
import {
  KEYPAIR_HTTP_SIGNATURE_STRATEGY,
  ROUTE_SIGNATURE_POLICY,
} from '../signature-strategy/http-signature.strategy';
import { samePolicy } from '../signature-strategy/same-signature-policy';
import type { SignaturePolicyOverride } from '../signature-strategy/signature-policy';
import { AuthThrottle } from '../throttle/auth-throttle';
import { assertConnectionCurrent } from '../websockets/connection-state';
import { authFailure } from './auth-failure';
import { knownRefusal, pendingByRequest, policyByRequest, rememberRefusal } from './per-request-state';
import { PassportRegistry } from './passport-registry';

/**
 * Whether a GraphQL request has an Idempotency-Key header: from the HTTP request's raw
 * headers, or, when the app's GraphQL context holds only a copy of the request, from the
 * copy's `headers` (the refusal must not depend on how the app built its context).
 */
function carriesIdempotencyKey(req: object | undefined, contextRequest: unknown): boolean {
  if (req) return headerValues(toAuthRequest(req).rawHeaders, 'idempotency-key').length > 0;
  const headers = (contextRequest as { headers?: Record<string, unknown> } | undefined)?.headers;
  return typeof headers === 'object' && headers !== null && headers['idempotency-key'] !== undefined;
}

/** Stands in for the request in the log line of a refusal that has none (a WebSocket message, a GraphQL context without `req`). */
function detachedRequest(kind: string): object {
  return { method: kind === 'ws' ? 'WS' : 'POST', url: `(${kind} without a request)`, rawHeaders: [] };
}

/**
 * Tells Apollo Server's cache-control plugin that an authenticated field must not be cached:
 * it writes its own `Cache-Control` (e.g. `max-age=60, public` from a `defaultMaxAge`) when
 * the response is sent, after the guard's `no-store`. A hint of maxAge 0 makes the whole
 * response uncacheable. `info.cacheControl` exists only with that plugin (no import needed).
 */
function forbidCacheHints(context: ExecutionContext): void {
  const info = context.getArgByIndex<
    { cacheControl?: { setCacheHint?: (hint: { maxAge: number; scope: string }) => void } } | undefined
  >(3);
  info?.cacheControl?.setCacheHint?.({ maxAge: 0, scope: 'PRIVATE' });
}

/** A WebSocket handshake: no route decorators apply (a gateway's @Roles are checked per message). */
const HANDSHAKE_ROUTE: RouteSettings = {
  isPublic: false,
  signaturePolicy: undefined,
  roles: undefined,
  allowCaching: true,
};

/** A route's authentication settings, from its decorators. */
export interface RouteSettings {
  readonly isPublic: boolean;
  readonly signaturePolicy: SignaturePolicyOverride | undefined;
  /** @Roles(): all required; undefined when the route requires none. */
  readonly roles: readonly string[] | undefined;
  readonly allowCaching: boolean;
}

/**
 * Authenticates a request with the one strategy its credentials call for, puts the
 * SecurityContext on the request, and enforces @Roles(). Fails closed: whatever
 * goes wrong ends in a 401/403/503 with a stable code, never in "authenticated
 * anyway" and never in a 500. Behaviour lives in protected methods so an app can
 * subclass it (to log differently, or to pick strategies by its own rule).
 *
 * Around authentication: a client over the failure limit is refused (429) before any
 * lookup or signature check, each 401 is counted for the throttle, every decision is
 * one audit event, and authenticated responses get `Cache-Control: no-store` unless
 * the route has @AllowCaching().
 */
@Injectable()
export class KeypairAuthGuard implements CanActivate {
  protected readonly logger = new Logger('KeypairAuth');
  /** Audit events of every decision (provided by the module; property-injected so subclasses keep their constructors). */
  @Optional() @Inject(AuthAudit) protected readonly audit?: AuthAudit;
  /** Failure throttling; null when the module has no `throttle` option. */
  @Optional() @Inject(AuthThrottle) protected readonly throttle?: AuthThrottle | null;
  /** routeSettings() per handler, then per controller class (a handler may be inherited). */
  private readonly routes = new WeakMap<object, Map<object, RouteSettings>>();

  constructor(
    protected readonly reflector: Reflector,
    @Inject(KEYPAIR_AUTH_PASSPORT) protected readonly registry: PassportRegistry,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.routeSettings(context);
    if (context.getType<string>() === 'graphql') this.refuseIdempotencyKeyOnMutation(context);
    if (route.isPublic) return true;
    const kind = context.getType<string>();
    if (kind !== 'http' && kind !== 'graphql' && kind !== 'ws') {
      // An RPC (microservice) handler reached by a global guard: there is no HTTP request to verify.
      throw this.failure(
        authError(
          'AUTHENTICATION_FAILED',
          `KeypairAuthGuard guards HTTP, GraphQL and WebSocket handlers, not ${kind} ones: mark this handler @Public() and guard it another way`,
        ),
        detachedRequest(kind),
        undefined,
      );
    }
    const target = executionTarget(context);
    try {
      const allowed = await this.activate(route, target);
      if (target.kind === 'graphql' && !route.allowCaching) forbidCacheHints(context);
      return allowed;
    } catch (error) {
      // activate() throws HttpExceptions; anything else is a bug, refused (and logged) too, never a 500.
      const exception =
        error instanceof HttpException
          ? error
          : this.failure(error, detachedRequest(target.kind), target.res);
      throw exceptionForContext(exception, target.kind);
    }
  }

  /**
   * An `Idempotency-Key` on a GraphQL mutation is refused (400 IDEMPOTENCY_KEY_NOT_SUPPORTED)
   * before the resolver runs, on a @Public() mutation too. The stored response cannot be
   * replayed "exactly as on REST": one HTTP request may carry several mutations with
   * per-field partial failures, and Nest sees resolvers, not the response the GraphQL
   * server builds. Ignoring the header would run a retried mutation twice. Queries with the
   * header run. The operation type comes from the resolver's `info` (no graphql import).
   */
  protected refuseIdempotencyKeyOnMutation(context: ExecutionContext): void {
    const info = context.getArgByIndex<{ operation?: { operation?: unknown } } | undefined>(3);
    if (info?.operation?.operation !== 'mutation') return;
    const { req, res } = executionTarget(context);
    const contextRequest = graphqlContextRequest(context);
    if (!carriesIdempotencyKey(req, contextRequest)) return;
    const holder =
      req ?? (typeof contextRequest === 'object' && contextRequest !== null ? contextRequest : {});
    // Each operation on a long-lived connection is its own refusal (reported every time).
    let refusal = isConnectionRequest(holder)
      ? undefined
      : (knownRefusal(holder, 'idempotency-key') as HttpException | undefined);
    if (!refusal) {
      const exception = new IdempotencyException(
        'IDEMPOTENCY_KEY_NOT_SUPPORTED',
        'Idempotency-Key on a GraphQL mutation: use a REST endpoint with @Idempotent(), or drop the header',
      );
      refusal = rememberRefusal(
        holder,
        'idempotency-key',
        this.failure(exception, req ?? detachedRequest('graphql'), res),
      );
    }
    throw exceptionForContext(refusal, 'graphql');
  }

  /**
   * canActivate() for one execution target: HTTP handlers and GraphQL resolvers
   * authenticate the HTTP request (once, however many resolvers it reaches); a
   * WebSocket message is held to the context its connection's handshake proved.
   * Throws HttpExceptions; canActivate() reports them the way the context expects.
   */
  protected async activate(route: RouteSettings, target: ExecutionTarget): Promise<boolean> {
    const { req, res } = target;
    if (!req) {
      throw await this.refuse(
        authError(
          'CREDENTIALS_MISSING',
          'the GraphQL context carries no HTTP request (`req` missing, or a copy of it): keep the default context, or return `{ req }` with the request itself',
        ),
        detachedRequest(target.kind),
        res,
      );
    }
    const request = req as RequestWithSecurityContext;
    let securityContext = getSecurityContext(request);
    /** Whether this call ran the authentication (resolvers that joined it do not audit it again). */
    let first = false;
    if (!securityContext) {
      if (target.kind === 'ws') {
        // Never authenticate from a message: the adapter authenticates the handshake.
        throw this.failure(
          authError('CREDENTIALS_MISSING', 'WebSocket connection without an authenticated handshake'),
          detachedRequest('ws'),
          res,
        );
      }
      ({ securityContext, first } = await this.authenticateOnce(
        route,
        request,
        res,
        target.kind === 'graphql',
      ));
    } else if (
      (target.kind === 'ws' || isConnectionRequest(request)) &&
      securityContext.expiresAt !== null &&
      securityContext.expiresAt <= Date.now()
    ) {
      // The adapter closes the connection at that moment; a message racing the close is refused.
      throw this.failure(
        authError('TOKEN_EXPIRED', `credential of ${securityContext.keyId} expired during the connection`),
        target.kind === 'ws' ? detachedRequest('ws') : request,
        res,
      );
    } else if (route.signaturePolicy && !samePolicy(policyByRequest.get(request), route.signaturePolicy)) {
      // A context proved under another route's rule (a second resolver, a second guard)
      // is held to this route's @RequireSignature() policy.
      throw await this.refuseOnce(
        authError(
          'SIGNATURE_REQUIRED',
          `route has @RequireSignature(), context from ${securityContext.method} under another policy`,
        ),
        request,
        res,
        'signature-policy',
      );
    }
    // A connection whose credential ended (or is being checked again after a revocation) is refused.
    if (target.kind === 'ws') await assertConnectionCurrent(request);
    // A WebSocket connection carries its context read-only (set once by the adapter).
    if (target.kind !== 'ws') {
      request[SECURITY_CONTEXT_PROPERTY] = securityContext;
      request.user = securityContext;
    }
    if (route.roles) {
      try {
        assertRoles(securityContext, route.roles);
      } catch (error) {
        throw target.kind === 'ws'
          ? this.failure(error, detachedRequest('ws'), res)
          : await this.refuseOnce(error, request, res, `roles:${route.roles.join(',')}`);
      }
    }
    if (!route.allowCaching && res) setResponseHeader(res, 'Cache-Control', 'no-store');
    if (first) this.audit?.success(securityContext, req);
    return true;
  }

  /**
   * Authenticates a request once: GraphQL runs the resolvers of one request side by
   * side, and each runs this guard. The first call verifies (and claims the nonce);
   * the others await the same promise, and so share its context or its refusal
   * (logged, audited and counted for the throttle once).
   */
  private async authenticateOnce(
    route: RouteSettings,
    req: RequestWithSecurityContext,
    res: unknown,
    shared: boolean,
  ): Promise<{ securityContext: SecurityContext; first: boolean }> {
    const pending = pendingByRequest.get(req);
    if (!pending) {
      const authentication = this.authenticate(route, req, res);
      // Only GraphQL runs guards of one request side by side; an HTTP handler's second guard
      // run finds the context on the request. No WeakMap write on that hot path.
      if (shared) pendingByRequest.set(req, authentication);
      // Unset reads as "no policy" (samePolicy), so only a policy is worth writing down.
      if (route.signaturePolicy) policyByRequest.set(req, route.signaturePolicy);
      return { securityContext: await authentication, first: true };
    }
    const securityContext = await pending;
    // Joining an authentication another resolver started: it ran under that resolver's
    // @RequireSignature() policy (or none), which may not be this one's.
    if (route.signaturePolicy && !samePolicy(policyByRequest.get(req), route.signaturePolicy)) {
      throw await this.refuseOnce(
        authError(
          'SIGNATURE_REQUIRED',
          `route has @RequireSignature(), request verified under another policy (${securityContext.method})`,
        ),
        req,
        res,
        'signature-policy',
      );
    }
    return { securityContext, first: false };
  }

  private async authenticate(
    route: RouteSettings,
    req: RequestWithSecurityContext,
    res: unknown,
  ): Promise<SecurityContext> {
    try {
      const request = toAuthRequest(req);
      this.checkThrottle(req, res, request);
      if (route.signaturePolicy) {
        (req as { [ROUTE_SIGNATURE_POLICY]?: SignaturePolicyOverride })[ROUTE_SIGNATURE_POLICY] =
          route.signaturePolicy;
      }
      const strategy = this.selectStrategy(req, request);
      // @RequireSignature() asks for a signed request: another credential is refused
      // before it is checked (and before its nonce or jti is spent).
      if (route.signaturePolicy && strategy !== KEYPAIR_HTTP_SIGNATURE_STRATEGY) {
        throw authError('SIGNATURE_REQUIRED', `route has @RequireSignature(), request uses ${strategy}`);
      }
      return await this.registry.authenticate<SecurityContext>(strategy, req, res, request);
    } catch (error) {
      throw await this.refuse(error, req, res);
    }
  }

  /**
   * Authenticates a WebSocket handshake (the HTTP upgrade request, or socket.io's
   * handshake request) exactly as an HTTP request: throttle, one strategy, the refusal
   * logged, audited and counted, the success audited. `res` collects the headers of a
   * refusal (`WWW-Authenticate`, `Retry-After`). Throws the HttpException of a refusal.
   * Used by the adapters of `nestjs-keypair-auth/websockets`.
   */
  async authenticateHandshake(req: object, res: unknown): Promise<SecurityContext> {
    markConnectionRequest(req);
    const securityContext = await this.authenticate(HANDSHAKE_ROUTE, req, res);
    this.audit?.success(securityContext, req);
    return securityContext;
  }

  /**
   * What the route's decorators say (@Public, @RequireSignature, @Roles,
   * @AllowCaching), read through the Reflector once per handler and class:
   * decorators are applied when the class is defined, and four metadata lookups
   * on every request cost more than the rest of the guard.
   */
  protected routeSettings(context: ExecutionContext): RouteSettings {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.routes.get(handler);
    const cached = byClass?.get(cls);
    if (cached) return cached;
    const targets = [handler, cls];
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES_METADATA, targets);
    const settings: RouteSettings = {
      isPublic: this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets) === true,
      signaturePolicy: this.reflector.getAllAndOverride<SignaturePolicyOverride | undefined>(
        SIGNATURE_POLICY_METADATA,
        targets,
      ),
      roles: roles && roles.length > 0 ? roles : undefined,
      allowCaching: this.reflector.getAllAndOverride<boolean>(ALLOW_CACHING_METADATA, targets) === true,
    };
    if (!byClass) this.routes.set(handler, (byClass = new Map()));
    byClass.set(cls, settings);
    return settings;
  }

  /**
   * Before any lookup or signature check: refuses with 429 AUTH_THROTTLED (and
   * `Retry-After`) a request whose address or claimed key id is over the failure limit.
   */
  protected checkThrottle(req: unknown, res: unknown, request: AuthRequest = toAuthRequest(req)): void {
    if (!this.throttle) return;
    const retryAfterMs = this.throttle.check(req, request);
    if (retryAfterMs === null) return;
    setResponseHeader(res, 'Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    const { maxFailures, windowMs } = this.throttle.settings;
    throw authError(
      'AUTH_THROTTLED',
      `${maxFailures} failures in ${windowMs / 1000} s from this client or key id`,
    );
  }

  /** refuse(), once per request for one `reason` key; later calls get the same exception, unreported (see refusalsByRequest). */
  private refuseOnce(error: unknown, req: object, res: unknown, key: string): Promise<HttpException> {
    if (isConnectionRequest(req)) return this.refuse(error, req, res);
    return (
      (knownRefusal(req, key) as Promise<HttpException> | undefined) ??
      rememberRefusal(req, key, this.refuse(error, req, res))
    );
  }

  /** failure(), then a 401 is counted for the throttle (a 403, 429 or 503 is not). */
  protected async refuse(error: unknown, req: unknown, res: unknown): Promise<HttpException> {
    const exception = this.failure(error, req, res);
    if (this.throttle && exception.getStatus() === 401) {
      await this.throttle.recordFailure(req, toAuthRequest(req));
    }
    return exception;
  }

  /** Picks the strategy from what the request carries; once, no fallback chain. */
  protected selectStrategy(req: unknown, request: AuthRequest = toAuthRequest(req)): string {
    const entry = this.registry.select(request);
    if (entry) return entry.name;
    const authorization = readAuthorization(request);
    if (authorization)
      throw authError('MALFORMED_CREDENTIALS', 'no enabled strategy accepts this Authorization scheme');
    throw authError('CREDENTIALS_MISSING', 'no credentials in the request');
  }

  /** Maps any failure to a client-safe exception, logs the reason, sets the 401 challenge. */
  protected failure(error: unknown, req: unknown, res: unknown): HttpException {
    return authFailure(error, req, res, this.logger, this.registry, this.audit);
  }
}
