import type { KeyObject } from 'node:crypto';
import { computeContentDigest, signRfc9421 } from '../http-signatures';
import type { HttpMessageView } from '../http-signatures';
import { jwkThumbprint } from '../keys/jwk-thumbprint';
import { jwsAlgorithmOf, KeyAlgorithm, signWithAlgorithm } from '../keys/key-algorithm';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, DIRECTORY_SIGNATURE_TAG } from './web-bot-auth-options';

/** A key the directory publishes and signs with (a ServerKeyringKey fits). */
export interface DirectorySigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly algorithm: KeyAlgorithm;
}

/** The directory's bytes and headers, to be sent exactly as they are. */
export interface SignedDirectoryResponse {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/**
 * How long caches (and verifiers, within their bounds) may keep the directory: an hour, so
 * a key removed from the keyring stops being trusted within the hour, and one directory
 * fetch per agent per hour is a negligible load.
 */
const CACHE_MAX_AGE_SECONDS = 3600;

/**
 * The key directory of this server (draft-ietf-webbotauth-httpsig-protocol-01,
 * "Key Directory"): a JWK Set of the public keys with `kid` = RFC 7638 thumbprint, and one
 * RFC 9421 response signature per key (labels binding0, binding1, …, tag
 * `http-message-signatures-directory`) covering `"@authority";req` and `content-digest`,
 * so that a verifier knows each key is held by the host it fetched from and the body is
 * the one signed. `authority` is the configured origin's host[:port], never the Host
 * header a client sent: a signature over a client-chosen authority would let anyone get
 * this server to vouch for another host's directory. `now` is in milliseconds (Date.now()).
 * Pure: the same inputs give the same bytes (Ed25519; ECDSA and RSA-PSS signatures are randomized).
 */
export function signedDirectoryResponse(
  keys: readonly DirectorySigningKey[],
  authority: string,
  now: number,
  lifetimeSeconds = 86_400,
): SignedDirectoryResponse {
  if (keys.length === 0) throw new TypeError('a key directory needs at least one key');
  // One entry per key: a key listed twice (under two keyIds) would publish one kid twice.
  const unique = keys.filter(
    (key, i) => keys.findIndex((other) => other.publicKey.equals(key.publicKey)) === i,
  );
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds <= 0) {
    throw new TypeError('lifetimeSeconds must be a positive whole number of seconds');
  }
  const published = unique.map((key) => {
    const jwk = key.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    return {
      thumbprint: jwkThumbprint(jwk),
      // Spread the exported public JWK only: a private member cannot be in it.
      jwk: { ...jwk, kid: jwkThumbprint(jwk), alg: jwsAlgorithmOf(key.algorithm), use: 'sig' },
    };
  });
  const body = Buffer.from(JSON.stringify({ keys: published.map((p) => p.jwk) }));
  const headers: Record<string, string> = {
    'content-type': DIRECTORY_MEDIA_TYPE,
    'cache-control': `max-age=${CACHE_MAX_AGE_SECONDS}`,
    'content-digest': computeContentDigest(body, ['sha-256']),
  };
  const request: HttpMessageView = {
    method: 'GET',
    scheme: 'https',
    authority,
    target: DIRECTORY_PATH,
    rawHeaders: [],
  };
  const response: HttpMessageView = {
    status: 200,
    rawHeaders: Object.entries(headers).flat(),
  };
  const created = Math.floor(now / 1000);
  const inputs: string[] = [];
  const signatures: string[] = [];
  unique.forEach((key, i) => {
    const signed = signRfc9421(
      response,
      {
        label: `binding${i}`,
        components: [{ name: '@authority', params: { req: true } }, { name: 'content-digest' }],
        // Cloudflare's directoryResponseHeaders order: created, keyid, alg, expires, tag.
        params: {
          created,
          keyid: published[i].thumbprint,
          alg: key.algorithm,
          expires: created + lifetimeSeconds,
          tag: DIRECTORY_SIGNATURE_TAG,
        },
        sign: (data) => signWithAlgorithm(key.algorithm, key.privateKey, data),
      },
      request,
    );
    inputs.push(signed.signatureInput);
    signatures.push(signed.signature);
  });
  headers['signature-input'] = inputs.join(', ');
  headers.signature = signatures.join(', ');
  return { body, headers };
}
