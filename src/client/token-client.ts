import type { KeyObject } from 'node:crypto';
import { defaultAlgorithmFor, KeyAlgorithm } from '../keys/key-algorithm';
import { publicKeyFromPrivate } from '../keys/formats/private-key-loader';
import { challengeSigningInput } from '../tokens/challenge-signing-input';
import { createDpopProof } from '../tokens/dpop-proof';
import { resolvePrivateKey } from './create-auth-header';
import { KeySigner, keySignerFor } from './key-signer';
import { signRequestAsync } from './sign-request';

export interface TokenClientOptions {
  /** The API's base URL, e.g. `https://api.example.com` (the token endpoints are under `/auth/`). */
  baseUrl: string | URL;
  /** The registered keyId of the key. */
  keyId: string;
  /** A private KeyObject, PEM text, or an OpenSSH private key. */
  privateKey?: KeyObject | string;
  /** Path of a private key file: PEM, or OpenSSH such as ~/.ssh/id_ed25519. */
  keyFile?: string;
  /** The passphrase of an encrypted key (PKCS#8 or OpenSSH). */
  keyPassword?: string;
  /**
   * Prove the key with this instead of a private key, e.g. createSshAgentSigner() (the key
   * stays in the agent). Not with `dpop: true`: DPoP proofs are signed with a private key.
   */
  signer?: KeySigner;
  /** The algorithm the key is registered with (default: the key's default; RSA: rsa-v1_5-sha256). */
  algorithm?: KeyAlgorithm;
  /** How the key is proven: sign a server challenge (default), or sign the token request itself (RFC 9421). */
  login?: 'challenge' | 'signed-request';
  /** Roles to ask for (default: all of the key's effective roles). */
  roles?: string[];
  /** Bind the tokens to the key with DPoP (RFC 9449): each call then carries a proof signed with it. */
  dpop?: boolean;
  /** Renew this many seconds before the access token expires (default 30). */
  refreshLeewaySeconds?: number;
  /** The fetch to use (default: global fetch). */
  fetch?: typeof fetch;
}

/** A token response (`POST /auth/token`, `POST /auth/refresh`). */
export interface TokenSet {
  accessToken: string;
  tokenType: 'Bearer' | 'DPoP';
  expiresIn: number;
  refreshToken?: string;
  refreshTokenExpiresIn?: number;
  roles: string[];
}

/** A token endpoint said no; `code` is the server's error code (e.g. REFRESH_TOKEN_REUSED). */
export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Codes after which a request is worth retrying once with a renewed token. */
const RENEWABLE = new Set([
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'ACCESS_TOKEN_INVALID',
  'REFRESH_TOKEN_INVALID',
]);

/**
 * Proves a key once, then calls the API with short-lived access tokens. It keeps
 * the token pair, refreshes the access token before it expires (the refresh token
 * rotates each time), and when refreshing fails (revoked, reused, expired family)
 * proves the key again. With `dpop: true` every call carries a DPoP proof signed
 * with the same key, so a stolen access token is useless without the key.
 */
export class TokenClient {
  /** Undefined with a `signer`. */
  private readonly privateKey: KeyObject | undefined;
  private readonly signer: KeySigner;
  private algorithm: KeyAlgorithm | undefined;
  private readonly base: string;
  private readonly doFetch: typeof fetch;
  private current: { set: TokenSet; expiresAt: number } | undefined;
  private renewing: Promise<string> | undefined;

  constructor(private readonly options: TokenClientOptions) {
    if (options.signer) {
      if (options.dpop)
        throw new TypeError(
          'dpop: true needs the private key (DPoP proofs are signed in this process): pass privateKey or keyFile, not a signer.',
        );
      this.privateKey = undefined;
      this.signer = options.signer;
      this.algorithm = options.algorithm;
    } else {
      this.privateKey = resolvePrivateKey(options);
      const algorithm = options.algorithm ?? defaultAlgorithmFor(publicKeyFromPrivate(this.privateKey));
      if (!algorithm) throw new TypeError('Unsupported key type: use Ed25519, ECDSA P-256/P-384 or RSA.');
      this.algorithm = algorithm;
      this.signer = keySignerFor(this.privateKey);
    }
    this.base = String(options.baseUrl).replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
  }

  /** The current token pair, if any. */
  get tokens(): TokenSet | undefined {
    return this.current?.set;
  }

  /** Proves the key (challenge or signed request) and obtains a new token pair. */
  async login(): Promise<TokenSet> {
    const url = `${this.base}/auth/token`;
    const roles = this.options.roles ? { roles: this.options.roles } : {};
    let headers: Record<string, string> = { 'content-type': 'application/json' };
    let body: string;
    const algorithm = await this.keyAlgorithm();
    if (this.options.login === 'signed-request') {
      body = JSON.stringify(roles);
      headers = (
        await signRequestAsync(
          { method: 'POST', url, headers, body },
          { keyId: this.options.keyId, signer: this.signer, algorithm },
        )
      ).headers;
    } else {
      const { challenge } = await this.post<{ challenge: string }>(`${this.base}/auth/challenge`, {
        keyId: this.options.keyId,
      });
      const signature = await this.signer.sign(algorithm, challengeSigningInput(challenge));
      body = JSON.stringify({
        keyId: this.options.keyId,
        challenge,
        signature: signature.toString('base64url'),
        ...roles,
      });
    }
    if (this.options.dpop) headers.dpop = await this.proof('POST', url);
    return this.keep(await this.send<TokenSet>(url, headers, body));
  }

  /** Exchanges the refresh token for a new pair (the old refresh token is spent). */
  async refresh(): Promise<TokenSet> {
    const refreshToken = this.current?.set.refreshToken;
    if (!refreshToken) throw new TokenRequestError(0, undefined, 'no refresh token: log in first');
    const url = `${this.base}/auth/refresh`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.dpop) headers.dpop = await this.proof('POST', url);
    return this.keep(await this.send<TokenSet>(url, headers, JSON.stringify({ refreshToken })));
  }

  /** A valid access token: the cached one, else refreshed, else a new login. One renewal at a time. */
  async accessToken(): Promise<string> {
    const leeway = (this.options.refreshLeewaySeconds ?? 30) * 1000;
    if (this.current && Date.now() < this.current.expiresAt - leeway) return this.current.set.accessToken;
    this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** The headers that authenticate one request: `Authorization` (Bearer or DPoP) and, bound, `DPoP`. */
  async headersFor(method: string, url: string | URL): Promise<Record<string, string>> {
    const token = await this.accessToken();
    if (this.current?.set.tokenType !== 'DPoP') return { authorization: `Bearer ${token}` };
    return {
      authorization: `DPoP ${token}`,
      dpop: await this.proof(method, url, token),
    };
  }

  /**
   * fetch with the access token. A 401 that a new token could fix (expired, revoked)
   * is retried once after renewing.
   */
  async fetch(
    url: string | URL,
    init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
  ): Promise<Response> {
    const method = (init.method ?? 'GET').toUpperCase();
    const call = async () =>
      this.doFetch(url, {
        method,
        headers: { ...init.headers, ...(await this.headersFor(method, url)) },
        body: init.body,
      });
    const response = await call();
    if (response.status !== 401) return response;
    const code = await errorCode(response.clone());
    if (code === undefined || !RENEWABLE.has(code)) return response;
    this.expire();
    return call();
  }

  /** Ends the refresh-token family on the server and forgets the tokens. */
  async logout(): Promise<void> {
    const refreshToken = this.current?.set.refreshToken;
    this.current = undefined;
    if (!refreshToken) return;
    // A bound family is only revoked with a proof by its key, as for refreshing.
    const url = `${this.base}/auth/revoke`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.dpop) headers.dpop = await this.proof('POST', url);
    await this.send(url, headers, JSON.stringify({ refreshToken }));
  }

  /** Treats the access token as expired (the refresh token is kept). */
  expire(): void {
    if (this.current) this.current = { ...this.current, expiresAt: 0 };
  }

  private async renew(): Promise<string> {
    if (this.current?.set.refreshToken) {
      try {
        return (await this.refresh()).accessToken;
      } catch (error) {
        if (!(error instanceof TokenRequestError) || error.status >= 500 || error.status === 0) throw error;
        // Revoked, reused or expired: prove the key again.
      }
    }
    this.current = undefined;
    return (await this.login()).accessToken;
  }

  private keep(set: TokenSet): TokenSet {
    this.current = { set, expiresAt: Date.now() + set.expiresIn * 1000 };
    return set;
  }

  /** The key's algorithm: given, or the default for the signer's public key. */
  private async keyAlgorithm(): Promise<KeyAlgorithm> {
    if (this.algorithm) return this.algorithm;
    const algorithm = defaultAlgorithmFor(await this.signer.publicKey());
    if (!algorithm) throw new TypeError('Unsupported key type: use Ed25519, ECDSA P-256/P-384 or RSA.');
    this.algorithm = algorithm;
    return algorithm;
  }

  private async proof(method: string, url: string | URL, accessToken?: string): Promise<string> {
    if (!this.privateKey)
      throw new TypeError('DPoP proofs need the private key: pass privateKey or keyFile.');
    return createDpopProof({
      privateKey: this.privateKey,
      algorithm: await this.keyAlgorithm(),
      method,
      url,
      accessToken,
    });
  }

  private post<T>(url: string, body: unknown): Promise<T> {
    return this.send<T>(url, { 'content-type': 'application/json' }, JSON.stringify(body));
  }

  private async send<T>(url: string, headers: Record<string, string>, body: string): Promise<T> {
    const response = await this.doFetch(url, { method: 'POST', headers, body });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const { code, message } = (json ?? {}) as { code?: string; message?: string };
      throw new TokenRequestError(
        response.status,
        code,
        `${new URL(url).pathname} answered ${response.status}${code ? ` ${code}` : ''}: ${message ?? text.slice(0, 200)}`,
      );
    }
    return json as T;
  }
}

async function errorCode(response: Response): Promise<string | undefined> {
  try {
    return ((await response.json()) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

/** A TokenClient: `await client.fetch(url)` calls the API with a current access token. */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  return new TokenClient(options);
}
