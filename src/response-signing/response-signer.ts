import { createPublicKey, KeyObject } from 'node:crypto';
import { computeContentDigest, HttpMessageView, signRfc9421 } from '../http-signatures';
import {
  defaultAlgorithmFor,
  jwsAlgorithmOf,
  KeyAlgorithm,
  keyMatchesAlgorithm,
  signWithAlgorithm,
} from '../keys/key-algorithm';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { loadPrivateKey } from '../keys/key-formats';

export interface ServerSigningKeyOptions {
  keyId: string;
  /** PKCS#8 / PKCS#1 / SEC1 PEM, or a private KeyObject. */
  privateKey: string | KeyObject;
  algorithm?: KeyAlgorithm;
}

export interface ResponseSigningOptions {
  /** Newest first: the first key signs; all are published at /.well-known/jwks.json until removed. */
  keys: ServerSigningKeyOptions[];
  /** Sign every response of routes behind KeypairAuthModule's interceptor (default false: only @SignResponse()). */
  global?: boolean;
  /** Label of the response signature (default `res`). */
  label?: string;
}

interface ServerKey {
  keyId: string;
  algorithm: KeyAlgorithm;
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

export interface ResponseToSign {
  status: number;
  rawHeaders: string[];
  body: Buffer;
}

/**
 * Signs responses per RFC 9421 §2.4 with the server's newest key: `@status`,
 * `content-type`, `content-digest`, and the request bound with `;req` (its method,
 * path, and its own signature when it had one). Keys are parsed once at startup.
 */
export class ResponseSigner {
  private readonly keys: ServerKey[];
  readonly label: string;

  constructor(options: ResponseSigningOptions) {
    if (!Array.isArray(options.keys) || options.keys.length === 0) {
      throw ConfigError.create(
        'responseSigning.keys must list at least one key.',
        'Generate one with `keypair-auth keygen`.',
      );
    }
    this.label = options.label ?? 'res';
    this.keys = options.keys.map((k) => {
      const privateKey = typeof k.privateKey === 'string' ? loadPrivateKey(k.privateKey) : k.privateKey;
      const publicKey = createPublicKey(privateKey);
      const algorithm = k.algorithm ?? defaultAlgorithmFor(publicKey);
      if (!algorithm || !keyMatchesAlgorithm(publicKey, algorithm)) {
        throw ConfigError.create(
          `responseSigning key ${JSON.stringify(k.keyId)} does not fit algorithm ${algorithm}.`,
          'Fix algorithm or key.',
        );
      }
      const jwk = {
        ...publicKey.export({ format: 'jwk' }),
        kid: k.keyId,
        alg: jwsAlgorithmOf(algorithm),
        use: 'sig',
      };
      return { keyId: k.keyId, algorithm, privateKey, jwk };
    });
  }

  /** The public keys as a JWK Set, newest first. */
  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: this.keys.map((k) => k.jwk) };
  }

  /** Signature headers (and Content-Digest) to add to a response. */
  sign(
    response: ResponseToSign,
    request: HttpMessageView,
    requestSignatureLabel?: string,
  ): Record<string, string> {
    const key = this.keys[0];
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
      { name: '@method', params: { req: true } },
      { name: '@path', params: { req: true } },
      ...(requestSignatureLabel
        ? [{ name: 'signature', params: { key: requestSignatureLabel, req: true } }]
        : []),
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
