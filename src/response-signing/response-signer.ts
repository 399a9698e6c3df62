import { computeContentDigest, HttpMessageView, signRfc9421 } from '../http-signatures';
import { signWithAlgorithm } from '../keys/key-algorithm';
import { requestBindings } from './response-binding';
import { checkResponseSignatureLabel } from './response-signing-options';
import { ServerKeyring, ServerSigningKeyOptions } from './server-keyring';

export type { ServerSigningKeyOptions } from './server-keyring';

export interface ResponseSigningOptions {
  /** Newest first: the first key signs; all are published at /.well-known/jwks.json until removed. */
  keys: ServerSigningKeyOptions[];
  /**
   * Label of the response signature (default `res`): an RFC 8941 key, a lowercase letter
   * then lowercase letters, digits and `_ - . *`. To sign every response rather than the
   * `@SignResponse()` routes, pass the structural option `signAllResponses: true`.
   */
  label?: string;
}

export interface ResponseToSign {
  status: number;
  rawHeaders: string[];
  body: Buffer;
}

/**
 * Signs responses per RFC 9421 §2.4 with the server's newest key: `@status`,
 * `content-type`, `content-digest`, and the request bound with `;req` (its method,
 * authority, path and query, its own signature when it had one — RFC 9421 by label, Cavage as
 * the whole Signature header — and its Authorization, DPoP, Content-Digest and Digest
 * headers when it had them: see requestBindings). Keys are parsed once at startup.
 */
export class ResponseSigner {
  readonly label: string;
  /** The server keyring it signs with (shared with the token issuer). */
  readonly keyring: ServerKeyring;

  constructor(options: ResponseSigningOptions, keyring?: ServerKeyring) {
    checkResponseSignatureLabel(options.label);
    this.label = options.label ?? 'res';
    this.keyring = keyring ?? new ServerKeyring(options.keys);
  }

  /** The public keys as a JWK Set, newest first. */
  jwks(): { keys: Record<string, unknown>[] } {
    return this.keyring.jwks();
  }

  /** Signature headers (and Content-Digest) to add to a response. */
  sign(
    response: ResponseToSign,
    request: HttpMessageView,
    requestSignatureLabel?: string,
  ): Record<string, string> {
    const key = this.keyring.current;
    const headers: Record<string, string> = {
      'content-digest': computeContentDigest(response.body, ['sha-256']),
    };
    const view: HttpMessageView = {
      status: response.status,
      rawHeaders: [...response.rawHeaders, 'Content-Digest', headers['content-digest']],
    };
    const components = [
      { name: '@status' },
      { name: 'content-type' },
      { name: 'content-digest' },
      ...requestBindings(request, requestSignatureLabel ? [requestSignatureLabel] : []).map(
        ({ name, params }) => ({ name, params }),
      ),
    ];
    const signed = signRfc9421(
      view,
      {
        label: this.label,
        components,
        params: { created: Math.floor(Date.now() / 1000), keyid: key.keyId, alg: key.algorithm },
        sign: (base) => signWithAlgorithm(key.algorithm, key.privateKey, base),
      },
      request,
    );
    headers['signature-input'] = signed.signatureInput;
    headers.signature = signed.signature;
    return headers;
  }
}
