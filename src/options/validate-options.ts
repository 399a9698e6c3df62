import { validateClientCertificateOptions } from '../certificate-strategy/client-certificate-options';
import { Logger } from '@nestjs/common';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { validateIdempotencyOptions } from '../idempotency/idempotency-options';
import type { CacheInvalidationBus } from '../keys/cache-invalidation.interface';
import type { HmacKey } from '../signature-strategy/http-signature.authenticator';
import {
  HttpSignatureOptions,
  KeypairAuthModuleOptions,
  STRATEGY_NAMES,
  StrategyName,
} from '../keypair-auth-options.interface';
import { validateResponseSigningOptions } from '../response-signing/response-signing-options';
import { validateTokenOptions } from '../tokens/token-options';
import { validateThrottleOptions } from '../throttle/throttle-options';
import { validateWebBotAuthOptions } from '../web-bot-auth/validate-web-bot-auth-options';
import type { AuditLogMode } from '../audit/auth-event';
import { ResolvedKeypairAuthOptions } from './resolved-options';
import { isPlainObject } from './option-field-names';
import { bool, checkKeys, number } from './option-checks';

/** The names of every (non-structural) option of forRoot(). */
export const KNOWN_KEYS: ReadonlyArray<keyof KeypairAuthModuleOptions> = [
  'strategies',
  'clockSkewSeconds',
  'jwt',
  'httpSignature',
  'responseSigning',
  'dataSource',
  'users',
  'replayStore',
  'cacheInvalidation',
  'allowInMemoryStoresInProduction',
  'allowHostHeaderAuthority',
  'keyCache',
  'lastUsedFlushIntervalMs',
  'origin',
  'clientCertificate',
  'idempotency',
  'tokens',
  'throttle',
  'auditLog',
  'onAuthEvent',
  'webBotAuth',
];

/**
 * Everything that can be misconfigured fails here, at startup, with a message
 * that names the fix. Defaults are merged once; nothing downstream re-checks.
 */
export function validateOptions(raw: KeypairAuthModuleOptions = {}): ResolvedKeypairAuthOptions {
  if (raw === null || typeof raw !== 'object') {
    throw ConfigError.create('options must be an object.', 'Pass KeypairAuthModule.forRoot({ ... }).');
  }
  checkKeys('', raw, KNOWN_KEYS);

  // 'client-certificate' and 'access-token' are on by default only when they are configured.
  const strategies =
    raw.strategies ??
    STRATEGY_NAMES.filter(
      (s) =>
        (s !== 'client-certificate' || raw.clientCertificate) &&
        (s !== 'access-token' || raw.tokens) &&
        (s !== 'web-bot-auth' || raw.webBotAuth),
    );
  if (!Array.isArray(strategies) || strategies.length === 0) {
    throw ConfigError.create(
      'strategies must be a non-empty array.',
      `Use some of: ${STRATEGY_NAMES.map((s) => `'${s}'`).join(', ')}.`,
    );
  }
  for (const s of strategies) {
    if (!STRATEGY_NAMES.includes(s as StrategyName)) {
      throw ConfigError.create(
        `unknown strategy ${JSON.stringify(s)}.`,
        `Use one of: ${STRATEGY_NAMES.map((n) => `'${n}'`).join(', ')}.`,
      );
    }
  }

  const jwt = raw.jwt ?? {};
  checkKeys('jwt.', jwt, [
    'maxLifetimeSeconds',
    'audience',
    'requireRequestBinding',
    'maxKeysPerUsernameLookup',
    'allowPssOnRsaKeys',
  ]);
  const audience = jwt.audience === undefined ? null : [jwt.audience].flat();
  if (audience && (audience.length === 0 || audience.some((a) => typeof a !== 'string' || a.length === 0))) {
    throw ConfigError.create(
      'jwt.audience must be a non-empty string or array of strings.',
      'Fix or remove it.',
    );
  }

  const httpSignature = validateHttpSignature(raw.httpSignature ?? {});
  const clientCertificate = validateClientCertificateOptions(raw.clientCertificate);
  if (strategies.includes('client-certificate') !== (clientCertificate !== null)) {
    throw ConfigError.create(
      clientCertificate
        ? "clientCertificate is set but 'client-certificate' is not in strategies."
        : "strategy 'client-certificate' needs the clientCertificate option.",
      clientCertificate
        ? "Add 'client-certificate' to strategies, or remove clientCertificate."
        : "Set clientCertificate: { format, trustedProxies } (behind a proxy) or { source: 'tls' }.",
    );
  }
  // Without 'access-token' in strategies, tokens are issued (for other services) but not accepted here.
  const tokens = validateTokenOptions(raw.tokens, raw.responseSigning !== undefined);
  if (strategies.includes('access-token') && tokens === null) {
    throw ConfigError.create(
      "strategy 'access-token' needs the tokens option.",
      'Set tokens: {} (and responseSigning: { keys }), or remove it from strategies.',
    );
  }

  const webBotAuth = validateWebBotAuthOptions(raw.webBotAuth);
  if (strategies.includes('web-bot-auth') !== (webBotAuth !== null)) {
    throw ConfigError.create(
      webBotAuth
        ? "webBotAuth is set but 'web-bot-auth' is not in strategies."
        : "strategy 'web-bot-auth' needs the webBotAuth option.",
      webBotAuth
        ? "Add 'web-bot-auth' to strategies, or remove webBotAuth."
        : "Set webBotAuth: { agents: [{ origin: 'https://crawler.example.com', username: 'crawler' }] }.",
    );
  }

  // Not even with allowHostHeaderAuthority: an agent signs @authority alone, for every site it
  // crawls, so with the Host header as authority any site it visited could replay its
  // signatures here, on any path and method.
  if (webBotAuth && raw.origin === undefined) {
    throw ConfigError.create(
      'webBotAuth needs origin: a Web Bot Auth signature covers the authority and little else, and agents send ' +
        'such signatures to every site they visit, so the authority must be this server’s, from configuration.',
      "Set origin: 'https://api.example.com' (this server's public scheme and authority).",
    );
  }

  const keyCache = raw.keyCache ?? {};
  checkKeys('keyCache.', keyCache, ['max', 'ttlSeconds', 'negativeTtlSeconds', 'negativeMax']);

  for (const [name, store] of [['replayStore', raw.replayStore]] as const) {
    if (store !== undefined && typeof store?.claim !== 'function') {
      throw ConfigError.create(
        `${name} must implement claim(scope, nonce, ttlMs).`,
        'Pass a ReplayStore instance.',
      );
    }
  }
  if (
    raw.users !== undefined &&
    (typeof raw.users?.findByUsername !== 'function' || typeof raw.users?.findById !== 'function')
  ) {
    throw ConfigError.create(
      'users must implement findByUsername() and findById().',
      'See "Your own user table" in docs/key-registry.md (AuthUserDirectory).',
    );
  }

  return {
    strategies: new Set(strategies),
    clockSkewMs:
      1000 * number('clockSkewSeconds', raw.clockSkewSeconds, 20, 0, 300, 'seconds (5 minutes at most)'),
    jwt: {
      maxLifetimeMs: 1000 * number('jwt.maxLifetimeSeconds', jwt.maxLifetimeSeconds, 300, 1, 3600, 'seconds'),
      audience,
      requireRequestBinding: bool('jwt.requireRequestBinding', jwt.requireRequestBinding, false),
      maxKeysPerUsernameLookup: number(
        'jwt.maxKeysPerUsernameLookup',
        jwt.maxKeysPerUsernameLookup,
        10,
        1,
        100,
        'keys',
      ),
      allowPssOnRsaKeys: bool('jwt.allowPssOnRsaKeys', jwt.allowPssOnRsaKeys, false),
    },
    httpSignature,
    responseSigning: validateResponseSigningOptions(raw.responseSigning),
    origin: validateOrigin(raw.origin),
    dataSource: raw.dataSource,
    users: raw.users,
    replayStore: raw.replayStore,
    cacheInvalidation: validateBus(raw.cacheInvalidation),
    allowInMemoryStoresInProduction: bool(
      'allowInMemoryStoresInProduction',
      raw.allowInMemoryStoresInProduction,
      false,
    ),
    allowHostHeaderAuthority: bool('allowHostHeaderAuthority', raw.allowHostHeaderAuthority, false),
    keyCache: {
      max: number('keyCache.max', keyCache.max, 10_000, 1, 10_000_000, 'entries'),
      ttlMs: 1000 * number('keyCache.ttlSeconds', keyCache.ttlSeconds, 60, 0, 86_400, 'seconds'),
      negativeTtlMs:
        1000 * number('keyCache.negativeTtlSeconds', keyCache.negativeTtlSeconds, 5, 0, 3600, 'seconds'),
      negativeMax: number('keyCache.negativeMax', keyCache.negativeMax, 10_000, 1, 10_000_000, 'entries'),
    },
    lastUsedFlushIntervalMs: number(
      'lastUsedFlushIntervalMs',
      raw.lastUsedFlushIntervalMs,
      5000,
      10,
      3_600_000,
      'ms',
    ),
    clientCertificate,
    idempotency: validateIdempotencyOptions(raw.idempotency),
    tokens,
    throttle: validateThrottleOptions(raw.throttle),
    auditLog: validateAuditLog(raw.auditLog),
    onAuthEvent: validateHook(raw.onAuthEvent),
    webBotAuth,
  };
}

const AUDIT_LOG_MODES: readonly AuditLogMode[] = ['all', 'failures', 'none'];

function validateAuditLog(mode: unknown): AuditLogMode {
  if (mode === undefined) return 'failures';
  if (!AUDIT_LOG_MODES.includes(mode as AuditLogMode)) {
    throw ConfigError.create(
      `auditLog must be 'all', 'failures' or 'none' (got ${JSON.stringify(mode)}).`,
      "Use 'failures' (the default) to log refusals only, 'all' to log successes too.",
    );
  }
  return mode as AuditLogMode;
}

function validateHook(hook: unknown): ResolvedKeypairAuthOptions['onAuthEvent'] {
  if (hook === undefined) return undefined;
  if (typeof hook !== 'function') {
    throw ConfigError.create(
      'onAuthEvent must be a function (event) => void.',
      'Pass a function, or leave it out.',
    );
  }
  return hook as ResolvedKeypairAuthOptions['onAuthEvent'];
}

function validateOrigin(origin: unknown): string | null {
  if (origin === undefined) return null;
  let url: URL | undefined;
  try {
    url = typeof origin === 'string' ? new URL(origin) : undefined;
  } catch {
    url = undefined;
  }
  if (
    !url ||
    !['http:', 'https:'].includes(url.protocol) ||
    url.origin !== String(origin).replace(/\/$/, '').toLowerCase()
  ) {
    throw ConfigError.create(
      `origin must be a scheme and authority like "https://api.example.com" (got ${JSON.stringify(origin)}).`,
      'Give only scheme, host and optional port: no path, query or trailing text.',
    );
  }
  return url.origin;
}

const DIGESTS = ['sha-256', 'sha-512'] as const;
const COMPONENT = /^(@[a-z-]+|[a-z0-9!#$%&'*+.^_`|~-]+|\([a-z-]+\))$/;

function validateHttpSignature(raw: HttpSignatureOptions): ResolvedKeypairAuthOptions['httpSignature'] {
  checkKeys('httpSignature.', raw, [
    'requiredComponents',
    'requireNonce',
    'maxAgeSeconds',
    'label',
    'tag',
    'maxBodyBytes',
    'digestAlgorithms',
    'hmacKeys',
  ]);
  const components = raw.requiredComponents ?? [];
  if (!Array.isArray(components) || components.some((c) => typeof c !== 'string' || !COMPONENT.test(c))) {
    throw ConfigError.create(
      'httpSignature.requiredComponents must be lowercase component names like "@method", "content-type" or "(request-target)".',
      'Fix the listed names.',
    );
  }
  const digests = raw.digestAlgorithms ?? [...DIGESTS];
  if (!Array.isArray(digests) || digests.length === 0 || digests.some((d) => !DIGESTS.includes(d))) {
    throw ConfigError.create(
      'httpSignature.digestAlgorithms must list sha-256 and/or sha-512.',
      'Other digests are too weak or unknown.',
    );
  }
  const hmacKeys = new Map<string, HmacKey>();
  if (raw.hmacKeys !== undefined && !isPlainObject(raw.hmacKeys)) {
    throw ConfigError.create(
      'httpSignature.hmacKeys must be an object of entries by keyid.',
      "Write hmacKeys: { 'svc-1': { secret, username, roles: ['reader'] } }.",
    );
  }
  for (const [keyid, entry] of Object.entries(raw.hmacKeys ?? {})) {
    const where = `httpSignature.hmacKeys[${JSON.stringify(keyid)}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw ConfigError.create(`${where} must be an object { secret, username, roles? }.`, 'Fix the entry.');
    }
    // A field nothing reads is refused: `role` for `roles` would leave the key with every role of the account.
    checkKeys(`${where}.`, entry, ['secret', 'username', 'roles']);
    if (
      entry.roles !== undefined &&
      (!Array.isArray(entry.roles) || entry.roles.some((r) => typeof r !== 'string' || r.length === 0))
    ) {
      throw ConfigError.create(
        `${where}.roles must be a list of role names (got ${JSON.stringify(entry.roles)}).`,
        "Write roles: ['reader'], or leave roles out to give the key every role of its account.",
      );
    }
    const secret = typeof entry?.secret === 'string' ? Buffer.from(entry.secret, 'base64') : entry?.secret;
    if (!Buffer.isBuffer(secret) || secret.length < 32 || typeof entry.username !== 'string') {
      throw ConfigError.create(
        `httpSignature.hmacKeys[${JSON.stringify(keyid)}] needs a secret of at least 32 bytes (Buffer or base64) and a username.`,
        'Generate one with `openssl rand -base64 32`.',
      );
    }
    hmacKeys.set(keyid, { secret, username: entry.username, roles: entry.roles ?? null });
  }
  for (const [name, value] of [
    ['label', raw.label],
    ['tag', raw.tag],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw ConfigError.create(`httpSignature.${name} must be a non-empty string.`, 'Fix or remove it.');
    }
  }
  return {
    policy: {
      requiredComponents: components,
      requireNonce: bool('httpSignature.requireNonce', raw.requireNonce, false),
      maxAgeMs: 1000 * number('httpSignature.maxAgeSeconds', raw.maxAgeSeconds, 300, 1, 3600, 'seconds'),
      label: raw.label,
      tag: raw.tag,
    },
    maxBodyBytes: number(
      'httpSignature.maxBodyBytes',
      raw.maxBodyBytes,
      1024 * 1024,
      0,
      1024 * 1024 * 1024,
      'bytes',
    ),
    digestAlgorithms: digests,
    hmacKeys,
  };
}

function validateBus(bus: unknown): CacheInvalidationBus | undefined {
  if (bus === undefined) return undefined;
  const b = bus as Partial<CacheInvalidationBus> | null;
  if (typeof b?.publish !== 'function' || typeof b.subscribe !== 'function') {
    throw ConfigError.create(
      'cacheInvalidation must implement publish(event) and subscribe(handler).',
      'Pass a RedisCacheInvalidationBus from nestjs-keypair-auth/redis, or leave it out.',
    );
  }
  return b as CacheInvalidationBus;
}

/**
 * Under NODE_ENV=production the module refuses to start without `origin`: request-bound
 * credentials (`@authority`, `@target-uri`, Cavage `host`, DPoP `htu`) would be checked
 * against the Host header the client sent, so a request signed for another service that
 * trusts the same key would be accepted here. `allowHostHeaderAuthority: true` is the
 * explicit opt-out (one host per app, and a proxy that fixes Host); it then only warns.
 */
export function checkOriginInProduction(
  options: Pick<ResolvedKeypairAuthOptions, 'origin' | 'allowHostHeaderAuthority'>,
  nodeEnv = process.env.NODE_ENV,
): void {
  if (nodeEnv !== 'production' || options.origin !== null) return;
  if (!options.allowHostHeaderAuthority) {
    throw ConfigError.create(
      'NODE_ENV=production but origin is not set, so request-bound credentials would be checked against ' +
        'the Host header the client sent, and a request signed for another service that trusts the same key ' +
        'would be accepted here.',
      "Set origin: 'https://api.example.com' (this API's public scheme and authority) in " +
        'KeypairAuthModule.forRoot(), or set allowHostHeaderAuthority: true if the Host header really is ' +
        'fixed by your proxy.',
    );
  }
  new Logger('KeypairAuth').warn(
    'origin is not set (allowHostHeaderAuthority: true): request-bound credentials are checked against ' +
      "the Host header the client sent. Set origin: 'https://api.example.com' in KeypairAuthModule.forRoot().",
  );
}
