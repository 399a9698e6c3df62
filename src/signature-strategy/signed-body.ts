import { authError } from '../errors/keypair-auth.exception';
import type { AuthRequest } from '../http/auth-request';
import {
  DigestAlgorithm,
  getFieldLines,
  HttpMessageView,
  verifyContentDigest,
  verifyLegacyDigest,
} from '../http-signatures';
import { core } from './signature-errors';

/**
 * The body bytes a signature's digest must match, or null when the request has none.
 * Over `maxBodyBytes` is 413 BODY_TOO_LARGE; a body whose bytes the app did not keep
 * (rawBody off) is refused rather than left unchecked.
 */
export function signedBody(request: AuthRequest, maxBodyBytes: number): Buffer | null {
  const declared = getFieldLines({ rawHeaders: request.rawHeaders }, 'content-length');
  const raw = request.rawBody;
  if (raw && raw.length > maxBodyBytes) {
    throw authError('BODY_TOO_LARGE', `${raw.length} bytes > ${maxBodyBytes}`);
  }
  if (raw && raw.length > 0) return raw;
  const chunked = getFieldLines({ rawHeaders: request.rawHeaders }, 'transfer-encoding') !== undefined;
  if ((declared && declared.some((v) => v.trim() !== '0')) || chunked) {
    // A body was sent but the app did not keep its bytes: refuse rather than skip the digest.
    throw authError(
      'AUTHENTICATION_FAILED',
      'request has a body but rawBody is not enabled (NestFactory.create(..., { rawBody: true }))',
    );
  }
  return null;
}

/** Checks the one Content-Digest (or legacy Digest) field against the body: DIGEST_MISMATCH otherwise. */
export function checkSignedDigest(
  view: HttpMessageView,
  body: Buffer | null,
  field: 'content-digest' | 'digest',
  algorithms: readonly DigestAlgorithm[],
): void {
  const lines = getFieldLines(view, field);
  if (!lines || lines.length !== 1)
    throw authError('DIGEST_REQUIRED', `exactly one ${field} field is required`);
  const bytes = body ?? Buffer.alloc(0);
  const options = { algorithms };
  core(() =>
    field === 'digest'
      ? verifyLegacyDigest(lines[0], bytes, options)
      : verifyContentDigest(lines[0], bytes, options),
  );
}

/**
 * A signed request's target must be origin-form: a path starting with `/`, and no `#`.
 * Node accepts both an absolute-form target and a `#` in the request line, and the
 * routers read them otherwise than @path and @query do: Fastify serves what follows `#`
 * as query, and Express reads `http://host:x/p` as the path `/:x/p`. So the route served
 * could differ from the one signed. Clients send origin-form to origin servers (RFC 9112
 * §3.2.1), and no client sends a fragment; refusing both is safe.
 */
export function assertOriginForm(target: string): void {
  if (target.charCodeAt(0) !== 0x2f || target.includes('#')) {
    throw authError(
      'REQUEST_TARGET_INVALID',
      `request target ${JSON.stringify(target.slice(0, 100))} is not origin-form, or has a fragment`,
    );
  }
}
