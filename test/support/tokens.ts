import { randomBytes } from 'node:crypto';
import { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export const now = (): number => Math.floor(Date.now() / 1000);
export const nonce = (): string => randomBytes(12).toString('base64url');
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A signed JWT with exactly the header and claims given. */
export function sign(
  key: KeyObject | Uint8Array,
  header: { alg: string; kid?: string; [k: string]: unknown },
  claims: Record<string, unknown>,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(header).sign(key);
}

/** The asymmetric_jwt_auth claim set for a user, fresh. */
export function seedClaims(
  username: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return { username, time: now(), nonce: nonce(), ...overrides };
}

/** An unsigned token (`alg: none`), which jose refuses to make. */
export function unsecured(claims: Record<string, unknown>, kid?: string): string {
  return `${b64({ alg: 'none', ...(kid ? { kid } : {}) })}.${b64(claims)}.`;
}
