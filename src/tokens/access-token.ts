import { decodeProtectedHeader, SignJWT } from 'jose';
import type { ServerKeyring } from '../response-signing/server-keyring';

/** The `typ` of our access tokens (RFC 9068). `application/at+jwt` and any case are the same type. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** Which kind of client credential a token was issued through. */
export type TokenCredential = 'key' | 'certificate';

/** Proof-of-possession binding (RFC 7800 `cnf`): a DPoP/JWK thumbprint, or a certificate thumbprint (RFC 8705). */
export interface TokenConfirmation {
  jkt?: string;
  'x5t#S256'?: string;
}

/** The claims of an access token this library issues. */
export interface AccessTokenClaims {
  /** The user's id (stable across renames; the key cache is indexed by it). */
  sub: string;
  /** The client credential the token was issued through: a keyId, or a certificate's hex SHA-256. */
  key_id: string;
  cred: TokenCredential;
  /** The granted roles: a subset of the credential's effective roles at issue time. */
  roles: string[];
  /** The user's token generation at issue time. */
  gen: number;
  jti: string;
  iat: number;
  exp: number;
  iss?: string;
  aud?: string;
  cnf?: TokenConfirmation;
}

export const MAX_ACCESS_TOKEN_LENGTH = 8192;
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase();
  return t === ACCESS_TOKEN_TYPE || t === `application/${ACCESS_TOKEN_TYPE}`;
}

/**
 * True when a Bearer credential is one of ours, judged from its protected header
 * alone (no signature check): `typ: at+jwt`, or a `kid` of the server keyring (so a
 * server-signed token of another type is refused by the access-token strategy with
 * its own code instead of reaching the client-JWT strategy). Plain client-signed
 * JWTs answer false and go on to the asymmetric-JWT strategy.
 */
export function looksLikeAccessToken(token: string, keyring: ServerKeyring): boolean {
  if (token.length > MAX_ACCESS_TOKEN_LENGTH || !COMPACT_JWS.test(token)) return false;
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return false;
  }
  if (isAccessTokenType(header.typ)) return true;
  return typeof header.kid === 'string' && keyring.find(header.kid) !== undefined;
}

/** Signs access-token claims with the keyring's newest key, `typ: at+jwt`. */
export function signAccessToken(keyring: ServerKeyring, claims: AccessTokenClaims): Promise<string> {
  const key = keyring.current;
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: key.jwsAlgorithm, kid: key.keyId, typ: ACCESS_TOKEN_TYPE })
    .sign(key.privateKey);
}
