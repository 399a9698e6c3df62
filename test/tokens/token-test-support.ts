import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import request from 'supertest';
import {
  challengeSigningInput,
  KeyAlgorithm,
  signWithAlgorithm,
  TokenAdminController,
  TokenController,
} from '../../src';

/** The server keyring of a test app: a new Ed25519 key first, an older P-256 key still published. */
export function serverKeys(): { keys: { keyId: string; privateKey: KeyObject }[]; current: KeyObject } {
  const current = generateKeyPairSync('ed25519').privateKey;
  const older = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return {
    current,
    keys: [
      { keyId: 'srv-2026-11', privateKey: current },
      { keyId: 'srv-2026-10', privateKey: older },
    ],
  };
}

/**
 * The token endpoints, mounted beside the probe routes of createTestApp (the
 * module is global and exports what they inject). Apps mount them with the
 * structural option `tokenApi: true`, which token-revocation-bound.e2e-spec.ts uses.
 */
export const TOKEN_CONTROLLERS = [TokenController, TokenAdminController];

export interface LoginResult {
  status: number;
  body: {
    accessToken: string;
    tokenType: string;
    expiresIn: number;
    refreshToken?: string;
    refreshTokenExpiresIn?: number;
    roles: string[];
    code?: string;
  };
}

/** Challenge, sign `keypair-auth-challenge:<challenge>`, exchange it: POST /auth/token. */
export async function challengeLogin(
  server: string,
  keyId: string,
  privateKey: KeyObject,
  algorithm: KeyAlgorithm,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<LoginResult> {
  const { body } = await request(server).post('/auth/challenge').send({ keyId }).expect(200);
  const signature = signWithAlgorithm(algorithm, privateKey, challengeSigningInput(body.challenge));
  const res = await request(server)
    .post('/auth/token')
    .set(headers)
    .send({ keyId, challenge: body.challenge, signature: signature.toString('base64url'), ...extra });
  return { status: res.status, body: res.body };
}

/** Re-signs an access token's claims with a key of the test's choosing (expired, wrong typ, forged). */
export async function resign(
  token: string,
  key: KeyObject,
  header: Record<string, unknown>,
  claims: Record<string, unknown> = {},
): Promise<string> {
  const original = decodeProtectedHeader(token);
  return new SignJWT({ ...decodeJwt(token), ...claims })
    .setProtectedHeader({ ...original, ...header } as { alg: string })
    .sign(key);
}

export const whoami = (server: string, authorization: string, extra: Record<string, string> = {}) =>
  request(server).get('/probe/whoami').set('Authorization', authorization).set(extra);
