import { HttpSignatureError, isHttpSignatureError, quoteInput } from '../http-signature.error';
import { getFieldValue, type HttpMessageView } from '../http-message';
import { forbidsCreatedExpires } from './cavage-algorithm';
import { CAVAGE_HEADER_NAME, type CavageSignatureParams } from './cavage-header.parser';

export interface CavageSigningStringOptions {
  /**
   * The list used when the signature has no headers parameter. Draft-12 says
   * ["(created)"], its own Appendix C and older drafts say ["date"]; Mastodon
   * uses both depending on the algorithm (see cavageDefaultHeaders).
   */
  readonly defaultHeaders: readonly string[];
}

/** Mastodon's rule for a missing headers parameter: "(created)" for hs2019 (or no algorithm), else "date". */
export function cavageDefaultHeaders(algorithm: string | undefined): readonly string[] {
  return algorithm === undefined || algorithm.toLowerCase() === 'hs2019' ? ['(created)'] : ['date'];
}

const UNSAFE_VALUE = /[^\t\x20-\x7e]/;

function missing(message: string): HttpSignatureError {
  return new HttpSignatureError('SIGNATURE_COMPONENT_MISSING', message);
}

function line(view: HttpMessageView, name: string, params: CavageSigningStringInput): string {
  switch (name) {
    case '(request-target)': {
      if (typeof view.method !== 'string' || view.method.length === 0) {
        throw missing('(request-target) needs the method');
      }
      if (typeof view.target !== 'string' || view.target.length === 0) {
        throw missing('(request-target) needs the target');
      }
      return `${view.method.toLowerCase()} ${view.target}`;
    }
    case '(created)':
    case '(expires)': {
      if (forbidsCreatedExpires(params.algorithm)) {
        throw new HttpSignatureError(
          'SIGNATURE_COMPONENT_UNSUPPORTED',
          `${name} cannot be signed with algorithm ${quoteInput(params.algorithm ?? '')}`,
        );
      }
      const value = name === '(created)' ? params.created : params.expires;
      if (value === undefined) throw missing(`${name} is listed but the parameter is absent`);
      return String(value);
    }
    case 'host': {
      const host = getFieldValue(view, 'host') ?? view.authority;
      if (host === undefined) throw missing('covered header "host" is absent');
      return host;
    }
    default: {
      if (name.startsWith('(')) {
        throw new HttpSignatureError(
          'SIGNATURE_COMPONENT_UNSUPPORTED',
          `unknown pseudo-header ${quoteInput(name)}`,
        );
      }
      const value = getFieldValue(view, name);
      if (value === undefined) throw missing(`covered header ${quoteInput(name)} is absent`);
      return value;
    }
  }
}

/** What the signing string depends on besides the message. */
export type CavageSigningStringInput = Pick<
  CavageSignatureParams,
  'headers' | 'created' | 'expires' | 'algorithm'
>;

/**
 * The draft-cavage-12 §2.3 signing string: `name: value` lines joined by LF, in
 * the order of the headers parameter (or options.defaultHeaders). Header values
 * are combined like RFC 9421's (trimmed, obs-fold collapsed, lines joined with
 * ", "); an empty value gives "name: ". `host` falls back to the view's
 * authority when there is no Host field (HTTP/2).
 */
export function buildCavageSigningString(
  view: HttpMessageView,
  params: CavageSigningStringInput,
  options: CavageSigningStringOptions,
): string {
  try {
    const names = params.headers ?? options.defaultHeaders;
    if (names.length === 0) throw new HttpSignatureError('MALFORMED_SIGNATURE', 'no headers to sign');
    const lines: string[] = [];
    for (const name of names) {
      if (typeof name !== 'string' || !CAVAGE_HEADER_NAME.test(name)) {
        throw new HttpSignatureError(
          'MALFORMED_SIGNATURE',
          `${quoteInput(String(name))} is not a lowercase header name`,
        );
      }
      const value = line(view, name, params);
      if (UNSAFE_VALUE.test(value)) {
        throw new HttpSignatureError(
          'SIGNATURE_COMPONENT_INVALID',
          `covered header ${quoteInput(name)} has a control or non-ASCII character`,
        );
      }
      lines.push(`${name}: ${value}`);
    }
    return lines.join('\n');
  } catch (error) {
    if (isHttpSignatureError(error)) throw error;
    throw new HttpSignatureError(
      'SIGNATURE_COMPONENT_INVALID',
      `the signing string could not be built (${quoteInput(String(error))})`,
    );
  }
}
