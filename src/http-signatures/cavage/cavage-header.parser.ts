import { decodeStrictBase64 } from '../base64';
import { HttpSignatureError, isHttpSignatureError, quoteInput } from '../http-signature.error';
import { getFieldLines, type HttpMessageView } from '../http-message';

/** The parameters of a draft-cavage-http-signatures-12 signature. */
export interface CavageSignatureParams {
  readonly keyId: string;
  /** As sent, lowercased; absent means hs2019 to most verifiers. */
  readonly algorithm?: string;
  /** Lowercase header names; absent means the verifier's default list. */
  readonly headers?: readonly string[];
  readonly signature: Buffer;
  readonly created?: number;
  readonly expires?: number;
}

export const MAX_CAVAGE_HEADER_LENGTH = 8192;
export const MAX_CAVAGE_HEADERS = 32;

const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}
/** A name allowed in the headers parameter: a lowercase field name or a "(pseudo-header)". */
export const CAVAGE_HEADER_NAME = /^(?:\([a-z0-9-]+\)|[!#$%&'*+\-.^_`|~0-9a-z]+)$/;
const INTEGER = /^(?:0|[1-9][0-9]{0,14})$/;
const QUOTED = new Set(['keyid', 'algorithm', 'headers', 'signature']);

function malformed(message: string): HttpSignatureError {
  return new HttpSignatureError('MALFORMED_SIGNATURE', message);
}

interface RawParam {
  readonly value: string;
  readonly quoted: boolean;
}

/*
 * The value is an RFC 7235 auth-param list (token BWS "=" BWS (token /
 * quoted-string), comma-separated). It is not a structured field, and no
 * maintained library parses it strictly, so this is a small hand-written scanner.
 */
function scanParams(input: string): Map<string, RawParam> {
  const params = new Map<string, RawParam>();
  const n = input.length;
  let i = 0;
  const skipOws = () => {
    while (i < n && (input[i] === ' ' || input[i] === '\t')) i++;
  };
  skipOws();
  if (i === n) throw malformed('signature parameters are empty');
  for (;;) {
    const nameStart = i;
    while (i < n && isTchar(input.charCodeAt(i))) i++;
    const name = input.slice(nameStart, i).toLowerCase();
    if (name.length === 0) throw malformed(`expected a parameter name at offset ${nameStart}`);
    skipOws();
    if (input[i] !== '=') throw malformed(`parameter ${quoteInput(name)} has no "="`);
    i++;
    skipOws();
    let value = '';
    let quoted = false;
    if (input[i] === '"') {
      quoted = true;
      i++;
      let closed = false;
      let run = i;
      while (i < n) {
        const c = input.charCodeAt(i);
        if (c === 0x22) {
          value += input.slice(run, i);
          closed = true;
          i++;
          break;
        }
        if (c === 0x5c /* \ */) {
          const next = input.charCodeAt(i + 1);
          if (!(next === 0x09 || (next >= 0x20 && next <= 0x7e))) {
            throw malformed(`bad escape in parameter ${quoteInput(name)}`);
          }
          value += input.slice(run, i) + input[i + 1];
          i += 2;
          run = i;
          continue;
        }
        if (!(c === 0x09 || (c >= 0x20 && c <= 0x7e))) {
          throw malformed(`parameter ${quoteInput(name)} has a control or non-ASCII character`);
        }
        i++;
      }
      if (!closed) throw malformed(`parameter ${quoteInput(name)} has an unterminated quoted string`);
    } else {
      const valueStart = i;
      while (i < n && isTchar(input.charCodeAt(i))) i++;
      value = input.slice(valueStart, i);
      if (value.length === 0) throw malformed(`parameter ${quoteInput(name)} has no value`);
    }
    if (params.has(name)) throw malformed(`parameter ${quoteInput(name)} appears twice`);
    params.set(name, { value, quoted });
    skipOws();
    if (i === n) return params;
    if (input[i] !== ',') throw malformed(`expected "," at offset ${i}`);
    i++;
    skipOws();
    if (i === n) throw malformed('signature parameters end with ","');
  }
}

function parseHeadersParam(value: string): string[] {
  const names = value.split(' ');
  if (names.length > MAX_CAVAGE_HEADERS) {
    throw malformed(`headers lists more than ${MAX_CAVAGE_HEADERS} names`);
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (!CAVAGE_HEADER_NAME.test(name)) {
      throw malformed(`headers has ${quoteInput(name)}, not a lowercase header name separated by one space`);
    }
    if (seen.has(name)) throw malformed(`headers lists ${quoteInput(name)} twice`);
    seen.add(name);
  }
  return names;
}

/**
 * Parses the value of a Cavage `Signature:` field (the parameters alone). Strict:
 * keyId, algorithm, headers and signature must be quoted strings, created and
 * expires plain integers; a repeated parameter (names are case-insensitive) is
 * refused; unknown ones are ignored; the signature must be canonical base64.
 */
export function parseCavageSignatureHeader(value: string): CavageSignatureParams {
  try {
    if (typeof value !== 'string') throw malformed('signature parameters must be a string');
    if (value.length > MAX_CAVAGE_HEADER_LENGTH) {
      throw malformed(`signature parameters are longer than ${MAX_CAVAGE_HEADER_LENGTH} characters`);
    }
    const params = scanParams(value);
    for (const [name, param] of params) {
      if (QUOTED.has(name) && !param.quoted) throw malformed(`parameter "${name}" must be a quoted string`);
      if ((name === 'created' || name === 'expires') && (param.quoted || !INTEGER.test(param.value))) {
        throw malformed(`parameter "${name}" must be an unquoted integer`);
      }
    }
    const keyId = params.get('keyid')?.value;
    if (keyId === undefined || keyId.length === 0) throw malformed('keyId is missing');
    const encoded = params.get('signature')?.value;
    if (encoded === undefined) throw malformed('signature is missing');
    const signature = decodeStrictBase64(encoded);
    if (signature === undefined || signature.length === 0) {
      throw malformed('signature is not canonical base64');
    }
    const algorithm = params.get('algorithm')?.value;
    if (algorithm !== undefined && algorithm.length === 0) throw malformed('algorithm is empty');
    const headers = params.get('headers');
    const created = params.get('created');
    const expires = params.get('expires');
    return {
      keyId,
      ...(algorithm === undefined ? {} : { algorithm: algorithm.toLowerCase() }),
      ...(headers === undefined ? {} : { headers: parseHeadersParam(headers.value) }),
      signature,
      ...(created === undefined ? {} : { created: Number(created.value) }),
      ...(expires === undefined ? {} : { expires: Number(expires.value) }),
    };
  } catch (error) {
    if (isHttpSignatureError(error)) throw error;
    throw malformed(`signature parameters could not be parsed (${quoteInput(String(error))})`);
  }
}

const SIGNATURE_SCHEME = /^signature[ ]+/i;

/** True when an Authorization value uses the Signature scheme. */
export function isSignatureAuthorization(value: string): boolean {
  return SIGNATURE_SCHEME.test(value);
}

/** Parses `Authorization: Signature keyId="…",…` (scheme name case-insensitive). */
export function parseCavageAuthorization(value: string): CavageSignatureParams {
  if (typeof value !== 'string') throw malformed('Authorization must be a string');
  if (value.length > MAX_CAVAGE_HEADER_LENGTH) {
    throw malformed(`Authorization is longer than ${MAX_CAVAGE_HEADER_LENGTH} characters`);
  }
  const scheme = SIGNATURE_SCHEME.exec(value);
  if (scheme === null) throw malformed('Authorization does not use the Signature scheme');
  return parseCavageSignatureHeader(value.slice(scheme[0].length));
}

/** Where a Cavage signature was found. */
export interface CavageSignatureSource {
  readonly source: 'signature' | 'authorization';
  readonly params: CavageSignatureParams;
}

function single(lines: readonly string[], field: string): string {
  if (lines.length !== 1) throw malformed(`${field} appears on ${lines.length} lines`);
  return lines[0];
}

/**
 * Finds the Cavage signature of a request: a `Signature` field (ignored when a
 * Signature-Input field makes it an RFC 9421 signature) or an `Authorization:
 * Signature` field. Undefined when there is neither; MALFORMED_SIGNATURE when
 * there are both, or a field is repeated.
 */
export function parseCavage(view: HttpMessageView): CavageSignatureSource | undefined {
  const signatureLines =
    getFieldLines(view, 'signature-input') === undefined ? getFieldLines(view, 'signature') : undefined;
  const authorizationLines = getFieldLines(view, 'authorization')?.filter(isSignatureAuthorization);
  const hasAuthorization = authorizationLines !== undefined && authorizationLines.length > 0;
  if (signatureLines !== undefined && hasAuthorization) {
    throw malformed('both Signature and Authorization: Signature are present');
  }
  if (signatureLines !== undefined) {
    return { source: 'signature', params: parseCavageSignatureHeader(single(signatureLines, 'Signature')) };
  }
  if (hasAuthorization) {
    const all = getFieldLines(view, 'authorization') ?? [];
    return { source: 'authorization', params: parseCavageAuthorization(single(all, 'Authorization')) };
  }
  return undefined;
}
