import { HttpSignatureError, quoteInput } from '../http-signature.error';
import type { HttpMessageView } from '../http-message';
import { isSfKey, isSfStringSafe, serializeSfString } from '../structured-field';
import { sameComponent, toCoveredComponent } from './component-identifier';
import type { ComponentIdentifier, CoveredComponent, SignatureParameters } from './rfc9421.types';
import { buildSignatureBase } from './signature-base';

export interface Rfc9421SignOptions {
  /** The dictionary key of this signature in both fields, e.g. "sig1". */
  readonly label: string;
  readonly components: readonly ComponentIdentifier[];
  /** Serialized in the object's own key order; undefined members are skipped. */
  readonly params: SignatureParameters;
  /** Produces the raw signature bytes over the base (ECDSA as r||s). */
  readonly sign: (base: Buffer) => Uint8Array;
}

export interface Rfc9421SignResult {
  /** Signature-Input member, ready to set (or to append after ", "). */
  readonly signatureInput: string;
  /** Signature member, ready to set (or to append after ", "). */
  readonly signature: string;
  /** The exact bytes that were signed. */
  readonly signatureBase: Buffer;
}

const MAX_SF_INTEGER = 999_999_999_999_999;

function invalid(message: string): HttpSignatureError {
  return new HttpSignatureError('MALFORMED_SIGNATURE', message);
}

/** Serializes the signature parameters of RFC 9421 §2.3 (integers and strings only). */
function serializeParameters(params: SignatureParameters): string {
  let out = '';
  for (const key of Object.keys(params) as (keyof SignatureParameters)[]) {
    const value = params[key];
    if (value === undefined) continue;
    switch (key) {
      case 'created':
      case 'expires':
        if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > MAX_SF_INTEGER) {
          throw invalid(`signature parameter "${key}" must be an integer`);
        }
        out += `;${key}=${value}`;
        break;
      case 'nonce':
      case 'alg':
      case 'keyid':
      case 'tag':
        if (typeof value !== 'string' || !isSfStringSafe(value)) {
          throw invalid(`signature parameter "${key}" must be a printable ASCII string`);
        }
        out += `;${key}=${serializeSfString(value)}`;
        break;
      default:
        throw invalid(`unknown signature parameter ${quoteInput(String(key))}`);
    }
  }
  return out;
}

/**
 * Signs a message with RFC 9421 and returns the Signature-Input and Signature
 * members. `related` is the request when signing a response with ;req
 * components. The @signature-params line is the very text put in
 * Signature-Input, so the verifier rebuilds the same bytes.
 */
export function signRfc9421(
  view: HttpMessageView,
  options: Rfc9421SignOptions,
  related?: HttpMessageView,
): Rfc9421SignResult {
  const { label, components, params, sign } = options;
  if (typeof label !== 'string' || !isSfKey(label)) {
    throw invalid(`signature label ${quoteInput(String(label))} is not a structured-field key`);
  }
  if (!Array.isArray(components)) throw invalid('components must be an array');
  if (params === null || typeof params !== 'object') throw invalid('params must be an object');
  if (typeof sign !== 'function') throw invalid('sign must be a function');
  const covered: CoveredComponent[] = [];
  for (const component of components) {
    const checked = toCoveredComponent(component);
    if (covered.some((other) => sameComponent(other, checked))) {
      throw invalid(`${quoteInput(checked.identifier)} is covered twice`);
    }
    covered.push(checked);
  }
  const signatureParamsValue = `(${covered.map((c) => c.identifier).join(' ')})${serializeParameters(params)}`;
  const signatureBase = buildSignatureBase(view, { components: covered, signatureParamsValue }, related);
  const signature = Buffer.from(sign(signatureBase));
  return {
    signatureInput: `${label}=${signatureParamsValue}`,
    signature: `${label}=:${signature.toString('base64')}:`,
    signatureBase,
  };
}
