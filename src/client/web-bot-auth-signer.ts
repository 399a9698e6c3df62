import { createPublicKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { computeContentDigest, signRfc9421, type ComponentIdentifier } from '../http-signatures';
import { isSfKey, serializeSfString } from '../http-signatures/structured-field';
import { publicKeyFromPrivate } from '../keys/formats/private-key-loader';
import { jwkThumbprint } from '../keys/jwk-thumbprint';
import { defaultAlgorithmFor, jwsAlgorithmOf, KeyAlgorithm, signWithAlgorithm } from '../keys/key-algorithm';
import { DIRECTORY_PATH, WEB_BOT_AUTH_TAG } from '../web-bot-auth/web-bot-auth-options';
import { resolvePrivateKey } from './create-auth-header';
import type { KeySigner } from './key-signer';
import { bodyBytes, lowerKeys, requestView, type RequestToSign, type SignedRequest } from './sign-request';

/** Longest `expiresIn` accepted: the ceiling verifiers put on `webBotAuth.maxLifetimeSeconds`. */
const MAX_EXPIRES_IN = 86_400;
/** Nonce length of Cloudflare's signer (web-bot-auth NONCE_LENGTH_IN_BYTES), in bytes. */
const NONCE_BYTES = 64;

/**
 * How the Signature-Agent field is sent and covered:
 * - 'dictionary' (default): `Signature-Agent: sig1="<agent>"`, covered as the member
 *   `"signature-agent";key="sig1"` (draft-ietf-webbotauth-httpsig-protocol-01);
 * - 'field': the same header, covered as the whole field `"signature-agent"`: what
 *   Cloudflare's web-bot-auth 0.1.3 verifier reads (it cannot extract a member);
 * - 'legacy': `Signature-Agent: "<agent>"` (an sf-string), covered as `"signature-agent"`
 *   (the form of the drafts before -01).
 */
export type SignatureAgentForm = 'dictionary' | 'field' | 'legacy';

export interface WebBotAuthSignOptions {
  /** A private KeyObject, PEM text, or an OpenSSH private key. */
  privateKey?: KeyObject | string;
  /** Path of a private key file: PEM, or OpenSSH such as ~/.ssh/id_ed25519. */
  keyFile?: string;
  /** The passphrase of an encrypted key (PKCS#8 or OpenSSH). */
  keyPassword?: string;
  /** Sign with this (an ssh-agent) instead of a private key: use signWebBotAuthRequestAsync. */
  signer?: KeySigner;
  /**
   * The agent: an https origin (`https://bot.example`) or its directory
   * (`https://bot.example/.well-known/http-message-signatures-directory`). Sent as given.
   */
  agent: string;
  /** Signature-Agent form (default 'dictionary'). */
  signatureAgent?: SignatureAgentForm;
  /** RFC 9421 label (default `sig1`). */
  label?: string;
  /** The Signature-Agent dictionary member's key (default: the label). */
  signatureAgentKey?: string;
  /** Seconds from `created` to `expires` (default 60; more than 0, at most 86,400). */
  expiresIn?: number;
  /** Seconds since the epoch for `created` (default: now). */
  created?: number;
  /** A string to send, false for none (default: 64 random bytes, base64, like Cloudflare's signer). */
  nonce?: string | false;
  /**
   * Covered components besides the Signature-Agent member, which is always covered last.
   * Default: @method @authority @path [@query] [content-digest].
   */
  components?: (string | ComponentIdentifier)[];
}

/** The algorithm Web Bot Auth signs with for a key: RSA is RSA-PSS SHA-512 in the draft. */
function webBotAuthAlgorithm(publicKey: KeyObject): KeyAlgorithm {
  const type = publicKey.asymmetricKeyType;
  if (type === 'rsa') return 'rsa-pss-sha512';
  if (type === 'rsa-pss') {
    // Node cannot export an id-RSASSA-PSS key as a JWK, so it has no thumbprint to send as keyid.
    throw new TypeError(
      'This RSA key is an RSA-PSS-only (id-RSASSA-PSS) key, which has no JWK form and so no keyid: ' +
        'use an ordinary RSA key (keypair-auth keygen --type rsa), which signs rsa-pss-sha512 all the same.',
    );
  }
  const algorithm = defaultAlgorithmFor(publicKey);
  if (!algorithm) throw new TypeError('Unsupported key type: use Ed25519, ECDSA P-256/P-384 or RSA.');
  return algorithm;
}

/**
 * Refuses an agent the draft's verifiers refuse: exactly an https origin (as URL.origin
 * writes it: lowercase, no default port, no trailing slash) or that origin + the
 * directory path. The value is sent as given, so it must already be in that form.
 */
function checkAgent(agent: string): void {
  let origin: string | undefined;
  try {
    const url = new URL(agent);
    origin = url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    origin = undefined;
  }
  if (origin === undefined || (agent !== origin && agent !== `${origin}${DIRECTORY_PATH}`)) {
    throw new TypeError(
      `agent ${JSON.stringify(agent)} is not an https origin or its directory: pass ` +
        `"https://bot.example" or "https://bot.example${DIRECTORY_PATH}" (lowercase, no trailing slash).`,
    );
  }
}

/** The lifetime bound of the public signers (the draft's test vectors live for a century). */
function checkLifetime(options: WebBotAuthSignOptions): void {
  const expiresIn = options.expiresIn ?? 60;
  if (!Number.isInteger(expiresIn) || expiresIn <= 0 || expiresIn > MAX_EXPIRES_IN) {
    throw new TypeError(`expiresIn must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}.`);
  }
}

function checkOptions(options: WebBotAuthSignOptions): void {
  if (typeof options.agent !== 'string')
    throw new TypeError('agent is required: the https origin of the agent.');
  checkAgent(options.agent);
  if (options.signatureAgentKey !== undefined && !isSfKey(options.signatureAgentKey)) {
    throw new TypeError(
      'signatureAgentKey must be a structured-field key: lowercase letters, digits, _ - . *',
    );
  }
  const form = options.signatureAgent ?? 'dictionary';
  if (!['dictionary', 'field', 'legacy'].includes(form)) {
    throw new TypeError("signatureAgent must be 'dictionary', 'field' or 'legacy'.");
  }
}

/** The longest nonce the verifier of this library takes (web-bot-auth.authenticator.ts). */
const MAX_NONCE_LENGTH = 256;

export interface WebBotAuthDraft {
  signed: SignedRequest;
  label: string;
}

/**
 * Builds the headers, signing the base with `sign`: one path for the sync and async signers.
 * Exported for the draft's test vectors only (their lifetime exceeds the public bound);
 * use signWebBotAuthRequest.
 */
export function buildWebBotAuthHeaders(
  request: RequestToSign,
  options: WebBotAuthSignOptions,
  publicKey: KeyObject,
  algorithm: KeyAlgorithm,
  sign: (data: Buffer) => Buffer,
): WebBotAuthDraft {
  checkOptions(options);
  const url = new URL(request.url);
  const headers = lowerKeys(request.headers);
  if (headers['signature-agent'] !== undefined) {
    throw new TypeError(
      'the request already has a Signature-Agent header: pass the agent as options.agent only.',
    );
  }
  const body = bodyBytes(request.body);
  const label = options.label ?? 'sig1';
  const form = options.signatureAgent ?? 'dictionary';
  const agent = serializeSfString(options.agent);
  const memberKey = options.signatureAgentKey ?? label;
  headers['signature-agent'] = form === 'legacy' ? agent : `${memberKey}=${agent}`;
  if (body !== undefined) headers['content-digest'] = computeContentDigest(body, ['sha-256']);
  const components: ComponentIdentifier[] = (
    options.components ?? [
      '@method',
      '@authority',
      '@path',
      ...(url.search ? ['@query'] : []),
      ...(body !== undefined ? ['content-digest'] : []),
    ]
  ).map((c) => (typeof c === 'string' ? { name: c } : c));
  if (components.some((c) => c.name.toLowerCase() === 'signature-agent')) {
    throw new TypeError(
      'options.components names signature-agent: leave it out, the Signature-Agent member is covered for you ' +
        '(covering it twice is refused by verifiers).',
    );
  }
  components.push(
    form === 'dictionary'
      ? { name: 'signature-agent', params: { key: memberKey } }
      : { name: 'signature-agent' },
  );
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const nonce =
    options.nonce === false
      ? undefined
      : typeof options.nonce === 'string'
        ? options.nonce
        : randomBytes(NONCE_BYTES).toString('base64');
  if (nonce !== undefined && (nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH)) {
    throw new TypeError(
      `options.nonce must be 1 to ${MAX_NONCE_LENGTH} characters (verifiers refuse others); leave it out for a random one, or pass false for none.`,
    );
  }
  const signed = signRfc9421(requestView(request.method, url, headers), {
    label,
    components,
    // Cloudflare's order (and the draft's test vectors): created, keyid, alg, expires, nonce, tag.
    params: {
      created,
      keyid: jwkThumbprint(publicKey),
      alg: algorithm,
      expires: created + (options.expiresIn ?? 60),
      ...(nonce !== undefined ? { nonce } : {}),
      tag: WEB_BOT_AUTH_TAG,
    },
    sign,
  });
  headers['signature-input'] = signed.signatureInput;
  headers.signature = signed.signature;
  return { signed: { headers }, label };
}

/**
 * Signs a request as a Web Bot Auth agent (draft-ietf-webbotauth-httpsig-protocol-01):
 * tag `web-bot-auth`, `created` and `expires`, a nonce, keyid = the key's RFC 7638
 * thumbprint, alg from the key (RSA: rsa-pss-sha512), and a Signature-Agent naming the
 * agent, covered by the signature. Send the returned headers exactly as given.
 */
export function signWebBotAuthRequest(request: RequestToSign, options: WebBotAuthSignOptions): SignedRequest {
  if (options.signer) {
    throw new TypeError(
      'A signer (such as an ssh-agent) signs asynchronously: use signWebBotAuthRequestAsync.',
    );
  }
  const privateKey = resolvePrivateKey(options);
  const publicKey = publicKeyFromPrivate(privateKey);
  const algorithm = webBotAuthAlgorithm(publicKey);
  checkLifetime(options);
  return buildWebBotAuthHeaders(request, options, publicKey, algorithm, (data) =>
    signWithAlgorithm(algorithm, privateKey, data),
  ).signed;
}

/**
 * signWebBotAuthRequest for a `signer` whose signatures arrive asynchronously (an
 * ssh-agent); with a private key it gives the same result.
 */
export async function signWebBotAuthRequestAsync(
  request: RequestToSign,
  options: WebBotAuthSignOptions,
): Promise<SignedRequest> {
  if (!options.signer) return signWebBotAuthRequest(request, options);
  const publicKey = await options.signer.publicKey();
  const algorithm = webBotAuthAlgorithm(publicKey);
  // As in signRequestAsync: a first pass keeps the exact bytes to sign, the signature follows.
  let signedBytes: Buffer | undefined;
  checkLifetime(options);
  const draft = buildWebBotAuthHeaders(request, options, publicKey, algorithm, (data) => {
    signedBytes = Buffer.from(data);
    return Buffer.alloc(0);
  });
  if (signedBytes === undefined) throw new Error('nothing was signed');
  const raw = await options.signer.sign(algorithm, signedBytes);
  draft.signed.headers.signature = `${draft.label}=:${raw.toString('base64')}:`;
  return draft.signed;
}

/** One published key of a directory: the public JWK with kid = its thumbprint. */
export type DirectoryJwk = Record<string, unknown> & { kid: string; use: 'sig' };

/**
 * The JWK Set an agent publishes at `/.well-known/http-message-signatures-directory`:
 * each public key with `kid` = its RFC 7638 thumbprint, `alg` when the key has one
 * Web Bot Auth algorithm (RSA: PS512), `use: sig`, never a private member (a private
 * key passed in is reduced to its public key first).
 */
export function webBotAuthDirectory(publicKeys: readonly (KeyObject | string)[]): { keys: DirectoryJwk[] } {
  return {
    keys: publicKeys.map((key) => {
      const keyObject = typeof key === 'string' ? publicOf(resolvePrivateOrPublic(key)) : publicOf(key);
      const jwk = keyObject.export({ format: 'jwk' }) as Record<string, unknown>;
      const algorithm = webBotAuthAlgorithm(keyObject);
      return { ...jwk, kid: jwkThumbprint(jwk), alg: jwsAlgorithmOf(algorithm), use: 'sig' as const };
    }),
  };
}

function publicOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? publicKeyFromPrivate(key) : key;
}

/** PEM text: a public key as is, a private key through the loader (PKCS#8, SEC1, OpenSSH). */
function resolvePrivateOrPublic(text: string): KeyObject {
  if (/-----BEGIN (RSA )?PUBLIC KEY-----/.test(text)) {
    return createPublicKey(text);
  }
  return resolvePrivateKey({ privateKey: text });
}
