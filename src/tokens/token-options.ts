import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';

/** `tokens`: key proof once, then short-lived access tokens and rotating refresh tokens. */
export interface TokenOptions {
  /** Access-token lifetime in seconds (default 600 = 10 min; 10 to 3600). */
  accessTokenTtlSeconds?: number;
  /** Lifetime of one refresh token in seconds (default 7 days); every use replaces it with a new one. */
  refreshTokenTtlSeconds?: number;
  /**
   * Longest a refresh-token family lives, from the key proof that started it, in seconds
   * (default 30 days). After that the client proves its key again.
   */
  refreshFamilyMaxAgeSeconds?: number;
  /** Lifetime of a login challenge in seconds (default 60; 5 to 60). */
  challengeTtlSeconds?: number;
  /** `iss` put into access tokens and required on them (default: none). */
  issuer?: string;
  /** `aud` put into access tokens and required on them (default: none). */
  audience?: string;
  dpop?: DpopOptions;
}

/** DPoP proofs (RFC 9449). */
export interface DpopOptions {
  /** How old a proof's `iat` may be, in seconds, on top of clockSkewSeconds (default 60; 1 to 300). */
  maxAgeSeconds?: number;
  /** Refuse to issue tokens that are not bound to a key (default false). */
  required?: boolean;
}

/** `tokens` after validation, every default filled in. */
export interface ResolvedTokenOptions {
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  refreshFamilyMaxAgeMs: number;
  challengeTtlMs: number;
  issuer: string | null;
  audience: string | null;
  dpop: { maxAgeMs: number; required: boolean };
}

const DAY = 86_400;

function checkKeys(where: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw ConfigError.create(`unknown option ${where}${key}.`, `Known options: ${known.join(', ')}.`);
    }
  }
}

function seconds(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback * 1000;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw ConfigError.create(
      `${name} must be a whole number of seconds from ${min} to ${max} (got ${JSON.stringify(value)}).`,
      `Set it within that range, or leave it out for the default of ${fallback}.`,
    );
  }
  return value * 1000;
}

function text(name: string, value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
    throw ConfigError.create(
      `${name} must be a non-empty string of at most 255 characters.`,
      'Fix or remove it.',
    );
  }
  return value;
}

/**
 * Validates `tokens` at startup (null when tokens are not configured). Access tokens
 * are signed by the server keyring, `responseSigning.keys`, so that must be set too.
 */
export function validateTokenOptions(
  raw: TokenOptions | undefined,
  hasServerKeys: boolean,
): ResolvedTokenOptions | null {
  if (raw === undefined) return null;
  if (raw === null || typeof raw !== 'object') {
    throw ConfigError.create('tokens must be an object.', 'Pass tokens: {} for the defaults.');
  }
  if (!hasServerKeys) {
    throw ConfigError.create(
      'tokens are signed with the server keyring, but responseSigning.keys is not set.',
      'Set responseSigning: { keys: [{ keyId, privateKey }] } (newest first; also published at /.well-known/jwks.json).',
    );
  }
  checkKeys('tokens.', raw, [
    'accessTokenTtlSeconds',
    'refreshTokenTtlSeconds',
    'refreshFamilyMaxAgeSeconds',
    'challengeTtlSeconds',
    'issuer',
    'audience',
    'dpop',
  ]);
  const dpop = raw.dpop ?? {};
  if (dpop === null || typeof dpop !== 'object') {
    throw ConfigError.create('tokens.dpop must be an object.', 'Pass dpop: { maxAgeSeconds, required }.');
  }
  checkKeys('tokens.dpop.', dpop, ['maxAgeSeconds', 'required']);
  if (dpop.required !== undefined && typeof dpop.required !== 'boolean') {
    throw ConfigError.create('tokens.dpop.required must be true or false.', 'Pass a boolean.');
  }
  const refreshTokenTtlMs = seconds(
    'tokens.refreshTokenTtlSeconds',
    raw.refreshTokenTtlSeconds,
    7 * DAY,
    60,
    365 * DAY,
  );
  const refreshFamilyMaxAgeMs = seconds(
    'tokens.refreshFamilyMaxAgeSeconds',
    raw.refreshFamilyMaxAgeSeconds,
    30 * DAY,
    60,
    365 * DAY,
  );
  if (refreshTokenTtlMs > refreshFamilyMaxAgeMs) {
    throw ConfigError.create(
      'tokens.refreshTokenTtlSeconds is longer than tokens.refreshFamilyMaxAgeSeconds.',
      'A refresh token never outlives its family: make the family age at least the token lifetime.',
    );
  }
  return {
    accessTokenTtlMs: seconds('tokens.accessTokenTtlSeconds', raw.accessTokenTtlSeconds, 600, 10, 3600),
    refreshTokenTtlMs,
    refreshFamilyMaxAgeMs,
    challengeTtlMs: seconds('tokens.challengeTtlSeconds', raw.challengeTtlSeconds, 60, 5, 60),
    issuer: text('tokens.issuer', raw.issuer),
    audience: text('tokens.audience', raw.audience),
    dpop: {
      maxAgeMs: seconds('tokens.dpop.maxAgeSeconds', dpop.maxAgeSeconds, 60, 1, 300),
      required: dpop.required ?? false,
    },
  };
}
