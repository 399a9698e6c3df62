import { redactUrl } from './redact-url';
import { signRequestAsync, SignRequestOptions } from './sign-request';
import { RequestToBind, ServerKeys, serverKeysFromJwks, verifySignedResponse } from './verify-response';

export interface SignedFetchOptions extends SignRequestOptions {
  /**
   * Verify every response's signature: with fixed keys, or with the JWK Set at
   * this URL (fetched once, and again when an unknown keyid appears).
   */
  verifyResponses?: { keys: ServerKeys } | { jwksUrl: string };
  /** The fetch to wrap (default: global fetch). */
  fetch?: typeof fetch;
}

export type SignedFetch = (
  url: string | URL,
  init?: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array },
) => Promise<Response>;

/**
 * A fetch that signs every request (RFC 9421 or Cavage, see signRequest) and,
 * if asked, verifies every response signature, rejecting with
 * ResponseVerificationError when one does not verify.
 */
export function createSignedFetch(options: SignedFetchOptions): SignedFetch {
  const doFetch = options.fetch ?? fetch;
  let keys: ServerKeys | undefined =
    options.verifyResponses && 'keys' in options.verifyResponses ? options.verifyResponses.keys : undefined;
  const loadKeys = async (): Promise<ServerKeys> => {
    const source = options.verifyResponses;
    if (!source || 'keys' in source) return keys ?? new Map();
    const res = await doFetch(source.jwksUrl);
    if (!res.ok) throw new Error(`cannot load server keys from ${redactUrl(source.jwksUrl)}: ${res.status}`);
    keys = serverKeysFromJwks((await res.json()) as { keys?: unknown });
    return keys;
  };

  return async (url, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const target = new URL(url);
    const { headers } = await signRequestAsync(
      { method, url: target, headers: init.headers, body: init.body },
      options,
    );
    const response = await doFetch(target, { method, headers, body: init.body });
    if (!options.verifyResponses) return response;
    const body = new Uint8Array(await response.arrayBuffer());
    const requestView: RequestToBind = {
      method,
      scheme: target.protocol.slice(0, -1),
      authority: target.host,
      target: `${target.pathname}${target.search}`,
      rawHeaders: Object.entries(headers).flat(),
      body: init.body,
    };
    const keyid = /keyid="([^"]*)"/.exec(response.headers.get('signature-input') ?? '')?.[1];
    let known = keys ?? (await loadKeys());
    if (
      keyid !== undefined &&
      !known.has(keyid) &&
      options.verifyResponses &&
      'jwksUrl' in options.verifyResponses
    ) {
      known = await loadKeys();
    }
    verifySignedResponse(
      { status: response.status, headers: response.headers.entries(), body },
      requestView,
      known,
    );
    const nullBody = [101, 204, 205, 304].includes(response.status);
    return new Response(nullBody ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
