import { HttpSignatureError, quoteInput } from '../http-signature.error';
import { isResponse, type HttpMessageView } from '../http-message';
import type { DerivedComponentName } from './component-identifier';
import { queryParamValue } from './query-param';

interface TargetParts {
  /** The target URI path, '' when it has none. */
  readonly path: string;
  /** The query without "?", or undefined when there is no "?". */
  readonly query: string | undefined;
  readonly form: 'origin' | 'absolute' | 'authority' | 'asterisk';
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Splits a request-target (RFC 9112 §3.2) into path and query; never decodes anything. */
function splitTarget(target: string): TargetParts {
  if (target === '*') return { path: '', query: undefined, form: 'asterisk' };
  let form: TargetParts['form'];
  let from: number;
  if (target.charCodeAt(0) === 0x2f /* / */) {
    form = 'origin';
    from = 0;
  } else if (ABSOLUTE.test(target)) {
    form = 'absolute';
    const authorityStart = target.indexOf('://') + 3;
    from = authorityStart;
    while (from < target.length) {
      const c = target.charCodeAt(from);
      if (c === 0x2f || c === 0x3f || c === 0x23) break;
      from++;
    }
  } else {
    return { path: '', query: undefined, form: 'authority' };
  }
  let hash = target.indexOf('#', from);
  if (hash === -1) hash = target.length;
  const question = target.indexOf('?', from);
  if (question === -1 || question > hash) return { path: target.slice(from, hash), query: undefined, form };
  return { path: target.slice(from, question), query: target.slice(question + 1, hash), form };
}

/** Lowercase host, default port dropped (RFC 9421 §2.2.3, RFC 9110 §4.2.3). */
export function normalizeAuthority(authority: string, scheme: string | undefined): string {
  const lower = authority.toLowerCase();
  const defaultPort = scheme === 'https' ? ':443' : scheme === 'http' ? ':80' : undefined;
  if (defaultPort !== undefined && lower.endsWith(defaultPort)) {
    return lower.slice(0, lower.length - defaultPort.length);
  }
  return lower;
}

function missing(name: string, what: string): HttpSignatureError {
  return new HttpSignatureError(
    'SIGNATURE_COMPONENT_MISSING',
    `${name} needs ${what}, which the message lacks`,
  );
}

function required(value: string | undefined, name: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw missing(name, what);
  return value;
}

/**
 * The value of a derived component (RFC 9421 §2.2) for a message. `queryName`
 * is the ;name of @query-param. Request-only components are refused on a
 * response and @status on a request: the caller selects the related request for
 * ;req.
 */
export function derivedComponentValue(
  view: HttpMessageView,
  name: DerivedComponentName,
  queryName: string | undefined,
): string {
  if (name === '@status') {
    if (!isResponse(view)) {
      throw new HttpSignatureError(
        'SIGNATURE_COMPONENT_UNSUPPORTED',
        '@status is only defined for responses',
      );
    }
    const status = view.status;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) {
      throw missing('@status', 'a three-digit status code');
    }
    return String(status);
  }
  if (isResponse(view)) {
    throw new HttpSignatureError(
      'SIGNATURE_COMPONENT_UNSUPPORTED',
      `${name} is a request component; a response can only cover it with ;req`,
    );
  }
  switch (name) {
    case '@method':
      return required(view.method, name, 'the method');
    case '@scheme':
      return required(view.scheme, name, 'the scheme').toLowerCase();
    case '@authority':
      return normalizeAuthority(required(view.authority, name, 'the authority'), view.scheme?.toLowerCase());
    case '@request-target':
      return required(view.target, name, 'the request target');
    case '@target-uri': {
      const target = required(view.target, name, 'the request target');
      const parts = splitTarget(target);
      // The view's scheme and authority (a server's configured origin) win over those of an
      // absolute-form target, which the client wrote: only the path and query are taken from it.
      if (parts.form === 'absolute' && (view.scheme === undefined || view.authority === undefined)) {
        return target;
      }
      const scheme = required(view.scheme, name, 'the scheme').toLowerCase();
      const authority = normalizeAuthority(required(view.authority, name, 'the authority'), scheme);
      if (parts.form === 'origin') return `${scheme}://${authority}${target}`;
      if (parts.form === 'absolute') {
        const path = parts.path.length === 0 ? '/' : parts.path;
        return `${scheme}://${authority}${path}${parts.query === undefined ? '' : `?${parts.query}`}`;
      }
      return `${scheme}://${authority}`;
    }
    case '@path': {
      const { path } = splitTarget(required(view.target, name, 'the request target'));
      return path.length === 0 ? '/' : path;
    }
    case '@query': {
      const { query } = splitTarget(required(view.target, name, 'the request target'));
      return query === undefined ? '?' : `?${query}`;
    }
    case '@query-param': {
      const { query } = splitTarget(required(view.target, name, 'the request target'));
      if (queryName === undefined) throw missing(name, 'a ;name parameter');
      if (query === undefined) {
        throw new HttpSignatureError(
          'SIGNATURE_COMPONENT_MISSING',
          `query parameter ${quoteInput(queryName)} is absent`,
        );
      }
      if (!/^[\x21-\x7e]*$/.test(query)) {
        throw new HttpSignatureError(
          'SIGNATURE_COMPONENT_INVALID',
          'the query contains non-ASCII characters',
        );
      }
      return queryParamValue(query, queryName);
    }
    default:
      throw new HttpSignatureError(
        'SIGNATURE_COMPONENT_UNSUPPORTED',
        `unsupported derived component ${quoteInput(name as string)}`,
      );
  }
}
