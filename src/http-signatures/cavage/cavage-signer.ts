import type { KeyObject } from 'node:crypto';
import { signWithAlgorithm, type KeyAlgorithm } from '../../keys/key-algorithm';
import { HttpSignatureError, quoteInput } from '../http-signature.error';
import type { HttpMessageView } from '../http-message';
import { ecdsaP1363ToDer } from './ecdsa-signature';
import { buildCavageSigningString } from './signing-string';

export interface CavageSignOptions {
  readonly keyId: string;
  /** Sent as the algorithm parameter when given (e.g. "rsa-sha256", "hs2019"). */
  readonly algorithm?: string;
  /** Sent as the headers parameter when given; when omitted, defaultHeaders are signed and no parameter is sent. */
  readonly headers?: readonly string[];
  /** What the verifier assumes without a headers parameter; needed only when headers is omitted. */
  readonly defaultHeaders?: readonly string[];
  readonly created?: number;
  readonly expires?: number;
  /** Produces the signature bytes over the signing string (see cavageSigner). */
  readonly sign: (data: Buffer) => Uint8Array;
}

export interface CavageSignResult {
  /** Value for a `Signature:` field. */
  readonly signature: string;
  /** Value for an `Authorization:` field. */
  readonly authorization: string;
  readonly signingString: string;
}

function quoted(name: string, value: string): string {
  if (!/^[\t\x20-\x7e]*$/.test(value)) {
    throw new HttpSignatureError('MALFORMED_SIGNATURE', `${name} must be printable ASCII`);
  }
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function integer(name: string, value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new HttpSignatureError('MALFORMED_SIGNATURE', `${name} must be a non-negative integer`);
  }
  return String(value);
}

/**
 * Signs a request the draft-cavage-12 way. Parameters are written in the order
 * keyId, algorithm, created, expires, headers, signature (that of the draft's
 * examples), so the Appendix C values are reproduced byte for byte.
 */
export function signCavage(view: HttpMessageView, options: CavageSignOptions): CavageSignResult {
  const { keyId, algorithm, headers, created, expires } = options;
  if (typeof keyId !== 'string' || keyId.length === 0) {
    throw new HttpSignatureError('MALFORMED_SIGNATURE', 'keyId must be a non-empty string');
  }
  if (headers === undefined && options.defaultHeaders === undefined) {
    throw new HttpSignatureError(
      'MALFORMED_SIGNATURE',
      'give headers, or defaultHeaders to sign without them',
    );
  }
  const signingString = buildCavageSigningString(
    view,
    { headers, created, expires, algorithm },
    { defaultHeaders: options.defaultHeaders ?? [] },
  );
  const signature = Buffer.from(options.sign(Buffer.from(signingString, 'latin1'))).toString('base64');
  let value = `keyId=${quoted('keyId', keyId)}`;
  if (algorithm !== undefined) value += `,algorithm=${quoted('algorithm', algorithm)}`;
  if (created !== undefined) value += `,created=${integer('created', created)}`;
  if (expires !== undefined) value += `,expires=${integer('expires', expires)}`;
  if (headers !== undefined) value += `,headers=${quoted('headers', headers.join(' '))}`;
  value += `,signature="${signature}"`;
  return { signature: value, authorization: `Signature ${value}`, signingString };
}

/**
 * A `sign` callback for signCavage with a private key and its algorithm. ECDSA
 * signatures are DER unless 'ieee-p1363' is asked for (see ecdsa-signature.ts).
 */
export function cavageSigner(
  keyAlgorithm: KeyAlgorithm,
  privateKey: KeyObject,
  ecdsaEncoding: 'der' | 'ieee-p1363' = 'der',
): (data: Buffer) => Buffer {
  if (ecdsaEncoding !== 'der' && ecdsaEncoding !== 'ieee-p1363') {
    throw new HttpSignatureError(
      'MALFORMED_SIGNATURE',
      `unknown ECDSA encoding ${quoteInput(String(ecdsaEncoding))}`,
    );
  }
  const ecdsa = keyAlgorithm.startsWith('ecdsa-');
  return (data) => {
    const raw = signWithAlgorithm(keyAlgorithm, privateKey, data);
    return ecdsa && ecdsaEncoding === 'der' ? ecdsaP1363ToDer(raw) : raw;
  };
}
