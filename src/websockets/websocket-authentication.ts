import { HttpException, INestApplicationContext, Logger } from '@nestjs/common';
import { AuthAudit } from '../audit/auth-audit';
import { CertificateRegistry } from '../certificate-strategy/certificate-registry';
import type { SecurityContext } from '../context/security-context';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { authFailure } from '../guards/auth-failure';
import { KeypairAuthGuard } from '../guards/keypair-auth.guard';
import type { PassportRegistry } from '../guards/passport-registry';
import { KeyRegistry } from '../keys/key-registry';
import { KEYPAIR_AUTH_OPTIONS } from '../keypair-auth.constants';
import { KEYPAIR_AUTH_PASSPORT } from '../keypair-auth.internal-constants';
import type { ResolvedKeypairAuthOptions } from '../options/resolved-options';
import { AccessTokenAuthenticator } from '../tokens/access-token.authenticator';
import { WebBotAuthAuthenticator } from '../web-bot-auth/web-bot-auth.authenticator';
import { attachSecurityContext } from './connection-security-context';
import { ConnectionLifetime } from './connection-lifetime';
import { CredentialLiveness, LivenessCheck } from './credential-liveness';
import {
  HandshakeAuthenticator,
  HandshakeOutcome,
  HandshakeRefusal,
  refusalOf,
} from './handshake-authenticator';
import type { ConnectionEnded } from './ws-close-codes';

/** Options of KeypairAuthWsAdapter and KeypairAuthIoAdapter. */
export interface WebSocketAuthOptions {
  /**
   * The guard that authenticates handshakes (default: the module's KeypairAuthGuard). Pass
   * your subclass if you use one, so handshakes are decided as your HTTP requests are.
   */
  readonly guard?: KeypairAuthGuard;
  /**
   * How often every open connection's credential is checked again through the key
   * cache, in ms. Default: keyCache.ttlSeconds / 4, from 250 ms to 5 s (1 s when the
   * cache is off), so a revocation made behind the cache's back closes a connection
   * within keyCache.ttlSeconds + this.
   */
  readonly recheckIntervalMs?: number;
}

/** What the handshake proved, kept until the connection opens (keyed by the request object). */
interface Accepted {
  readonly context: SecurityContext;
  readonly liveness: LivenessCheck;
}

function optional<T>(app: INestApplicationContext, token: unknown): T | null {
  try {
    return (app.get(token as never, { strict: false }) as T | undefined) ?? null;
  } catch {
    return null;
  }
}

/**
 * What both adapters share: the handshake authentication, the hand-over of its context to
 * the connection, and the connection's lifetime. Built from the app's KeypairAuthModule
 * providers (reused, not duplicated) when the adapter creates its first server, so a
 * missing module is a startup error, not a refused client.
 */
export class WebSocketAuthentication {
  private readonly accepted = new WeakMap<object, Accepted>();
  /** Connections open() watches already, with the function that stops watching. */
  private readonly opened = new WeakMap<object, () => void>();

  private constructor(
    private readonly handshakes: HandshakeAuthenticator,
    private readonly liveness: CredentialLiveness,
    readonly lifetime: ConnectionLifetime,
    /** Logs and audits a refusal like a refused request, and maps it to its HttpException. */
    private readonly report: (error: unknown, req: object) => HttpException,
  ) {}

  static fromApp(app: INestApplicationContext, options: WebSocketAuthOptions = {}): WebSocketAuthentication {
    let guard: KeypairAuthGuard;
    let keys: KeyRegistry;
    let moduleOptions: ResolvedKeypairAuthOptions;
    let strategies: PassportRegistry;
    try {
      guard = options.guard ?? app.get(KeypairAuthGuard, { strict: false });
      keys = app.get(KeyRegistry, { strict: false });
      moduleOptions = app.get<symbol, ResolvedKeypairAuthOptions>(KEYPAIR_AUTH_OPTIONS, { strict: false });
      strategies = app.get<symbol, PassportRegistry>(KEYPAIR_AUTH_PASSPORT, { strict: false });
    } catch (error) {
      throw ConfigError.create(
        `the WebSocket adapter found no KeypairAuthModule in the app (${(error as Error).message}).`,
        'Import KeypairAuthModule.forRoot(...) in the module of your gateways, and pass the Nest application: ' +
          'app.useWebSocketAdapter(new KeypairAuthWsAdapter(app)).',
      );
    }
    const audit = optional<AuthAudit>(app, AuthAudit) ?? undefined;
    const liveness = new CredentialLiveness(
      keys,
      new Set(moduleOptions.httpSignature.hmacKeys.keys()),
      optional<CertificateRegistry>(app, CertificateRegistry),
      optional<AccessTokenAuthenticator>(app, AccessTokenAuthenticator),
      optional<WebBotAuthAuthenticator>(app, WebBotAuthAuthenticator),
    );
    const ttlMs = moduleOptions.keyCache.ttlMs;
    const periodMs =
      options.recheckIntervalMs ?? (ttlMs > 0 ? Math.min(5000, Math.max(250, Math.floor(ttlMs / 4))) : 1000);
    if (!Number.isFinite(periodMs) || periodMs < 10) {
      throw ConfigError.create(
        `recheckIntervalMs ${periodMs} is not a number of milliseconds from 10.`,
        'Leave it out for keyCache.ttlSeconds / 4.',
      );
    }
    const logger = new Logger('KeypairAuth');
    const report = (error: unknown, req: object) =>
      authFailure(error, req, undefined, logger, strategies, audit);
    const lifetime = new ConnectionLifetime(periodMs, report);
    keys.onInvalidation((event) => lifetime.onInvalidation(event));
    return new WebSocketAuthentication(new HandshakeAuthenticator(guard), liveness, lifetime, report);
  }

  /**
   * Authenticates a handshake request; on success remembers what it proved until the
   * connection opens (open()). Never throws.
   */
  async authenticate(req: object): Promise<HandshakeOutcome> {
    const outcome = await this.handshakes.authenticate(req);
    if (!outcome.ok) return outcome;
    try {
      this.accepted.set(req, {
        context: outcome.context,
        liveness: await this.liveness.watch(outcome.context, req),
      });
      return outcome;
    } catch (error) {
      // The credential passed the guard and fails its first re-check (an access token that expired in between).
      return { ok: false, refusal: refusalOf(this.report(error, req)) };
    }
  }

  /** A refusal the adapter decides itself (a transport), logged and audited like the guard's. */
  refuse(error: unknown, req: object): HandshakeRefusal {
    return refusalOf(this.report(error, req));
  }

  /**
   * The connection of an authenticated handshake opened: puts the context on it (read-only)
   * and watches its credential. False when `req` was never authenticated here: the adapter
   * then closes the connection without calling the gateway.
   */
  open(connection: object, req: object, end: (ended: ConnectionEnded) => void): (() => void) | null {
    // Nest binds each gateway of a path or namespace to the same connection: the second
    // binding finds it open and watched already (attaching twice threw and crashed the process).
    const known = this.opened.get(connection);
    if (known) return known;
    const accepted = this.accepted.get(req);
    if (!accepted) return null;
    attachSecurityContext(connection, accepted.context);
    const stop = this.lifetime.track({
      connection,
      context: accepted.context,
      liveness: accepted.liveness,
      req,
      end,
    });
    this.opened.set(connection, stop);
    return stop;
  }

  close(): void {
    this.lifetime.close();
  }
}
