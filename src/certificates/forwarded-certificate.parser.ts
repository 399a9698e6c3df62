import { createHash, X509Certificate } from 'node:crypto';
import { isArrayBuffer } from 'node:util/types';
import { parseItem, parseList } from 'structured-headers';
import { decodeCertificateDer, decodePemCertificates } from './certificate-decoding';
import { DER_TAG, readTlv } from './der';
import { CertificateError, quoteForMessage, withCertificateErrors } from './certificate-error';
import {
  checkedHeaderValue,
  collectHeaderLines,
  DEFAULT_MAX_HEADER_LENGTH,
  singleHeaderValue,
} from './header-lines';
import { decodeBase64Strict } from './pem';
import { PERCENT_SAFE_SETS, percentDecodeAscii } from './percent-encoding';
import { parseXfcc, xfccValue } from './xfcc';

/**
 * One decoder per proxy format. The format is chosen by configuration, never
 * guessed from the request: guessing lets a client pick the decoder that is
 * easiest to confuse.
 */
export const FORWARDED_CERTIFICATE_FORMATS = [
  'rfc9440',
  'nginx',
  'envoy-xfcc',
  'apache',
  'haproxy',
  'aws-alb',
] as const;
export type ForwardedCertificateFormat = (typeof FORWARDED_CERTIFICATE_FORMATS)[number];

export interface ForwardedCertificate {
  readonly leaf: X509Certificate;
  /** Certificates sent with the leaf, issuer first, leaf excluded. Untrusted until verified. */
  readonly chain: readonly X509Certificate[];
}

export interface ForwardedCertificateParserOptions {
  readonly format: ForwardedCertificateFormat;
  /** Header that carries the certificate. Defaults: see DEFAULT_CERTIFICATE_HEADERS. */
  readonly header?: string;
  /**
   * The chain: rfc9440 `Client-Cert-Chain` (default client-cert-chain); haproxy, one header
   * with `%[ssl_c_chain_der,base64]`; apache, the name before the number of headers
   * numbered from 0 (`ssl_client_cert_chain_` reads ssl_client_cert_chain_0, _1, ...).
   * Default none for haproxy and apache; null ignores any chain. Other formats: not allowed.
   */
  readonly chainHeader?: string | null;
  /** Longest accepted header line, in characters. Default 16384. */
  readonly maxHeaderLength?: number;
  /** Most certificates accepted in the chain (leaf excluded). Default 5. */
  readonly maxChainLength?: number;
  /**
   * envoy-xfcc only: refuse a header with more than one element. Set it when
   * Envoy runs with forward_client_cert_details SANITIZE_SET: there, a second
   * element can only come from a value that smuggled a "," (Envoy does not
   * quote URI/DNS SANs), and the last element is what would be used.
   */
  readonly xfccSingleElement?: boolean;
}

export interface ForwardedCertificateParser {
  readonly format: ForwardedCertificateFormat;
  /** Lowercased names of the headers this parser reads (for documentation and stripping checks). */
  readonly headerNames: readonly string[];
  /** Decodes from Node's `req.rawHeaders` (Fastify: `request.raw.rawHeaders`). Throws CertificateError only. */
  parse(rawHeaders: readonly string[]): ForwardedCertificate;
  /**
   * A string that is equal for two requests exactly when parse would see the same
   * header values, or null when parse must run (repeated or unexpected headers).
   */
  cacheKey(rawHeaders: readonly string[]): string | null;
}

export const DEFAULT_CERTIFICATE_HEADERS: Readonly<Record<ForwardedCertificateFormat, string>> = {
  rfc9440: 'client-cert',
  nginx: 'x-ssl-client-escaped-cert',
  'envoy-xfcc': 'x-forwarded-client-cert',
  apache: 'ssl_client_cert',
  haproxy: 'x-ssl-client-cert',
  'aws-alb': 'x-amzn-mtls-clientcert-leaf',
};
export const DEFAULT_RFC9440_CHAIN_HEADER = 'client-cert-chain';
export const DEFAULT_MAX_CHAIN_LENGTH = 5;

/** How the chain arrives: not at all, in one header, or one certificate per numbered header. */
type ChainKind = 'none' | 'single' | 'numbered';
const CHAIN_KINDS: Readonly<Partial<Record<ForwardedCertificateFormat, ChainKind>>> = {
  rfc9440: 'single',
  haproxy: 'single',
  apache: 'numbered',
};

interface DecodeContext {
  readonly header: string;
  readonly chainHeader: string | null;
  readonly chainKind: ChainKind;
  readonly maxHeaderLength: number;
  readonly maxChainLength: number;
  readonly xfccSingleElement: boolean;
}

interface HeaderInput {
  readonly certLines: readonly string[];
  /** single: the lines of the chain header. */
  readonly chainLines: readonly string[];
  /** numbered: the lines of each numbered header, by number (all below maxChainLength). */
  readonly numberedLines: readonly (readonly string[])[];
}

type Decoder = (input: HeaderInput, context: DecodeContext) => ForwardedCertificate;

function malformed(context: DecodeContext, message: string, cause?: unknown): CertificateError {
  return new CertificateError('CERT_HEADER_MALFORMED', `${context.header}: ${message}`, { cause });
}

function missing(context: DecodeContext): CertificateError {
  return new CertificateError('CERT_MISSING', `no client certificate in ${context.header}`);
}

/** The single certificate header value; absent or empty means no certificate. */
function requiredValue(input: HeaderInput, context: DecodeContext): string {
  const value = singleHeaderValue(input.certLines, context.header, context.maxHeaderLength);
  if (value === undefined || value === '') throw missing(context);
  return value;
}

function checkChainLength(chain: readonly X509Certificate[], context: DecodeContext): void {
  if (chain.length > context.maxChainLength) {
    throw malformed(context, `chain has more than ${context.maxChainLength} certificates`);
  }
}

/**
 * RFC 9440: Client-Cert is an sf-item whose value is a Byte Sequence of the
 * DER certificate; Client-Cert-Chain is an sf-list of Byte Sequences, issuer
 * first, without the leaf. The chain header MAY be split over several lines
 * (RFC 9440 §2.3), so its lines are joined as RFC 9651 §4.2 says; Client-Cert
 * itself must be a single line. Parameters are ignored, as RFC 9651 requires
 * for parameters a field does not define.
 */
const decodeRfc9440: Decoder = (input, context) => {
  const value = requiredValue(input, context);
  const item = withCertificateErrors(
    'CERT_HEADER_MALFORMED',
    `${context.header}: not a structured-field item`,
    () => parseItem(value),
  );
  // util.types.isArrayBuffer rather than instanceof: it does not depend on the realm that created the buffer.
  if (!isArrayBuffer(item[0])) throw malformed(context, 'value is not a byte sequence');
  const leaf = decodeCertificateDer(new Uint8Array(item[0]));

  const chain: X509Certificate[] = [];
  if (context.chainHeader !== null && input.chainLines.length > 0) {
    const joined = input.chainLines
      .map((line) => checkedHeaderValue(line, context.chainHeader ?? '', context.maxHeaderLength))
      .join(', ');
    if (joined.length > context.maxHeaderLength) throw malformed(context, 'chain header is too long');
    const list = withCertificateErrors(
      'CERT_HEADER_MALFORMED',
      `${context.chainHeader}: not a structured-field list`,
      () => parseList(joined),
    );
    if (list.length > context.maxChainLength) {
      throw malformed(context, `chain has more than ${context.maxChainLength} certificates`);
    }
    for (const member of list) {
      const bare = member[0];
      if (!isArrayBuffer(bare)) throw malformed(context, 'chain member is not a byte sequence');
      chain.push(decodeCertificateDer(new Uint8Array(bare)));
    }
    if (chain.some((cert) => cert.raw.equals(leaf.raw)))
      throw malformed(context, 'chain repeats the leaf certificate');
  }
  return { leaf, chain };
};

/**
 * nginx `$ssl_client_escaped_cert` (1.13.5+): the PEM certificate with
 * "\n"-separated lines, URL-encoded by ngx_escape_uri(URI_COMPONENT). Exactly
 * one certificate block. nginx never forwards the chain.
 *
 * The deprecated `$ssl_client_cert` (PEM with a tab before each continuation
 * line, i.e. obs-fold) is not accepted: Node's HTTP parser answers 400 to
 * obs-fold before the application sees the request, and RFC 9112 deprecates it.
 */
const decodeNginx: Decoder = (input, context) => {
  const value = requiredValue(input, context);
  const pem = percentDecoded(value, PERCENT_SAFE_SETS.nginx, context);
  const [leaf] = decodePemCertificates(pem, { separator: '\n', minBlocks: 1, maxBlocks: 1 });
  return { leaf, chain: [] };
};

/**
 * AWS ALB `X-Amzn-Mtls-Clientcert-Leaf` (verify mode): the leaf as URL-encoded
 * PEM "with +=/ as safe characters", i.e. base64 symbols stay raw while
 * newlines and spaces are %0A and %20. Exactly one certificate block.
 */
const decodeAwsAlb: Decoder = (input, context) => {
  const value = requiredValue(input, context);
  const pem = percentDecoded(value, PERCENT_SAFE_SETS.awsAlb, context);
  const [leaf] = decodePemCertificates(pem, { separator: '\n', minBlocks: 1, maxBlocks: 1 });
  return { leaf, chain: [] };
};

/**
 * Apache `RequestHeader set <name> "%{SSL_CLIENT_CERT}s"`: mod_headers
 * replaces each CR and LF with a space (unwrap_header), so the PEM arrives as
 * "-----BEGIN CERTIFICATE----- MIIB... -----END CERTIFICATE-----". mod_headers
 * sends "(null)" when there is no certificate: that is CERT_MISSING.
 */
const decodeApache: Decoder = (input, context) => {
  const value = requiredValue(input, context);
  if (value === '(null)') throw missing(context);
  const [leaf] = decodePemCertificates(value, { separator: ' ', minBlocks: 1, maxBlocks: 1 });
  return { leaf, chain: withoutLeaf(leaf, apacheChain(input, context), context) };
};

/**
 * mod_ssl's SSL_CLIENT_CERT_CHAIN_n, one header per n (`RequestHeader set
 * <prefix>n "%{SSL_CLIENT_CERT_CHAIN_n}s"`), each one PEM certificate in the
 * mod_headers form. The chain is the certificates the client sent after its leaf,
 * so it ends at the first header that is absent, empty or "(null)" (mod_headers'
 * value for an element that does not exist); a certificate after that end is a
 * header the proxy did not set, and is refused.
 */
function apacheChain(input: HeaderInput, context: DecodeContext): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let ended = false;
  input.numberedLines.forEach((lines, n) => {
    const name = `${context.chainHeader}${n}`;
    const value = singleHeaderValue(lines, name, context.maxHeaderLength);
    if (value === undefined || value === '' || value === '(null)') {
      ended = true;
      return;
    }
    if (ended) throw malformed(context, `${name} follows a chain element that is not set`);
    chain.push(...decodePemCertificates(value, { separator: ' ', minBlocks: 1, maxBlocks: 1 }));
  });
  return chain;
}

/** A chain that repeats the leaf is not what a proxy sends. */
function withoutLeaf(
  leaf: X509Certificate,
  chain: X509Certificate[],
  context: DecodeContext,
): X509Certificate[] {
  if (chain.some((cert) => cert.raw.equals(leaf.raw))) {
    throw malformed(context, 'chain repeats the leaf certificate');
  }
  return chain;
}

/**
 * HAProxy `http-request set-header <name> %[ssl_c_der,base64]`: canonical
 * padded base64 of the DER leaf, nothing else. HAProxy sends an empty value
 * when there is no certificate.
 */
const decodeHaproxy: Decoder = (input, context) => {
  const value = requiredValue(input, context);
  const der = withCertificateErrors('CERT_HEADER_MALFORMED', `${context.header}: not canonical base64`, () =>
    decodeBase64Strict(value),
  );
  const leaf = decodeCertificateDer(der);
  return { leaf, chain: withoutLeaf(leaf, haproxyChain(input, context), context) };
};

/**
 * HAProxy `%[ssl_c_chain_der,base64]` (HAProxy 2.2+): the certificates the client
 * sent after its leaf, as DER certificates one after the other, in canonical base64.
 * Empty when there are none. Each certificate must be exactly one DER SEQUENCE; the
 * bytes must end where the last one ends.
 */
function haproxyChain(input: HeaderInput, context: DecodeContext): X509Certificate[] {
  if (context.chainHeader === null || input.chainLines.length === 0) return [];
  const name = context.chainHeader;
  const value = singleHeaderValue(input.chainLines, name, context.maxHeaderLength);
  if (value === undefined || value === '') return [];
  const bytes = withCertificateErrors('CERT_HEADER_MALFORMED', `${name}: not canonical base64`, () =>
    decodeBase64Strict(value),
  );
  const chain: X509Certificate[] = [];
  for (let offset = 0; offset < bytes.length;) {
    if (chain.length === context.maxChainLength) {
      throw malformed(context, `chain has more than ${context.maxChainLength} certificates`);
    }
    const tlv = withCertificateErrors('CERT_HEADER_MALFORMED', `${name}: not DER certificates`, () =>
      readTlv(bytes, offset),
    );
    if (tlv.tag !== DER_TAG.SEQUENCE) throw malformed(context, `${name}: not DER certificates`);
    chain.push(decodeCertificateDer(bytes.subarray(offset, tlv.end)));
    offset = tlv.end;
  }
  return chain;
}

/**
 * Envoy XFCC: the LAST element is the one the nearest Envoy (the trusted
 * proxy) appended; earlier ones came from further away. From it: Cert
 * (URL-encoded PEM, one block) and/or Chain (URL-encoded PEM, leaf first), and
 * Hash (hex SHA-256 of the leaf DER), which must match when present. Subject,
 * URI and DNS are ignored: identity is read from the certificate itself.
 */
const decodeEnvoyXfcc: Decoder = (input, context) => {
  const value = requiredValue(input, context);
  const elements = parseXfcc(value);
  if (context.xfccSingleElement && elements.length !== 1) {
    throw malformed(context, `expected exactly one element, got ${elements.length}`);
  }
  const element = elements[elements.length - 1];
  const certText = xfccValue(element, 'cert');
  const chainText = xfccValue(element, 'chain');
  const hash = xfccValue(element, 'hash');

  let leaf: X509Certificate | undefined;
  let chain: X509Certificate[] = [];
  if (certText !== undefined && certText !== '') {
    const pem = percentDecoded(certText, PERCENT_SAFE_SETS.envoy, context);
    [leaf] = decodePemCertificates(pem, { separator: '\n', minBlocks: 1, maxBlocks: 1 });
  }
  if (chainText !== undefined && chainText !== '') {
    const pem = percentDecoded(chainText, PERCENT_SAFE_SETS.envoy, context);
    const certs = decodePemCertificates(pem, {
      separator: '\n',
      minBlocks: 1,
      maxBlocks: context.maxChainLength + 1,
    });
    // Envoy's Chain includes the leaf as its first certificate.
    if (leaf !== undefined && !certs[0].raw.equals(leaf.raw)) {
      throw malformed(context, 'Chain does not start with the certificate in Cert');
    }
    leaf = certs[0];
    chain = certs.slice(1);
  }
  if (leaf === undefined) {
    if (hash !== undefined) {
      throw new CertificateError(
        'CERT_MISSING',
        `${context.header} carries only a Hash: configure Envoy set_current_client_cert_details to forward Cert`,
      );
    }
    throw missing(context);
  }
  if (hash !== undefined) {
    if (!/^[0-9A-Fa-f]{64}$/.test(hash)) throw malformed(context, 'Hash is not a hex SHA-256 digest');
    const actual = createHash('sha256').update(leaf.raw).digest('hex');
    if (actual !== hash.toLowerCase())
      throw malformed(context, 'Hash does not match the forwarded certificate');
  }
  checkChainLength(chain, context);
  return { leaf, chain };
};

function percentDecoded(value: string, safe: string, context: DecodeContext): string {
  return withCertificateErrors('CERT_HEADER_MALFORMED', `${context.header}: invalid URL encoding`, () =>
    percentDecodeAscii(value, safe),
  );
}

const DECODERS: Readonly<Record<ForwardedCertificateFormat, Decoder>> = {
  rfc9440: decodeRfc9440,
  nginx: decodeNginx,
  'envoy-xfcc': decodeEnvoyXfcc,
  apache: decodeApache,
  haproxy: decodeHaproxy,
  'aws-alb': decodeAwsAlb,
};

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function checkPositiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new CertificateError('CERT_CONFIG_INVALID', `${what} must be a positive integer`);
  }
  return value;
}

/** Validates options once, at startup, and returns a parser for that one format. */
export function createForwardedCertificateParser(
  options: ForwardedCertificateParserOptions,
): ForwardedCertificateParser {
  return withCertificateErrors('CERT_CONFIG_INVALID', 'invalid forwarded certificate parser options', () =>
    buildParser(options),
  );
}

function buildParser(options: ForwardedCertificateParserOptions): ForwardedCertificateParser {
  const format = options.format;
  if (!(FORWARDED_CERTIFICATE_FORMATS as readonly string[]).includes(format)) {
    throw new CertificateError(
      'CERT_CONFIG_INVALID',
      `unknown forwarded certificate format ${quoteForMessage(String(format))}`,
    );
  }
  const header = (options.header ?? DEFAULT_CERTIFICATE_HEADERS[format]).toLowerCase();
  const possibleChain = CHAIN_KINDS[format] ?? 'none';
  if (options.chainHeader != null && possibleChain === 'none') {
    throw new CertificateError(
      'CERT_CONFIG_INVALID',
      `chainHeader is only meaningful for rfc9440, haproxy and apache, not ${format}`,
    );
  }
  if (
    options.chainHeader !== undefined &&
    options.chainHeader !== null &&
    typeof options.chainHeader !== 'string'
  ) {
    throw new CertificateError('CERT_CONFIG_INVALID', 'chainHeader must be a header name or null');
  }
  const chainHeader =
    options.chainHeader === null
      ? null
      : ((
          options.chainHeader ?? (format === 'rfc9440' ? DEFAULT_RFC9440_CHAIN_HEADER : null)
        )?.toLowerCase() ?? null);
  const chainKind: ChainKind = chainHeader === null ? 'none' : possibleChain;
  for (const name of chainHeader === null ? [header] : [header, chainHeader]) {
    if (!HEADER_NAME.test(name)) {
      throw new CertificateError('CERT_CONFIG_INVALID', `invalid header name ${quoteForMessage(name)}`);
    }
  }
  if (header === chainHeader) {
    throw new CertificateError('CERT_CONFIG_INVALID', 'header and chainHeader must differ');
  }
  // Every header that starts with an Apache chain prefix is read as a chain element.
  if (chainKind === 'numbered' && header.startsWith(chainHeader as string)) {
    throw new CertificateError(
      'CERT_CONFIG_INVALID',
      `header ${quoteForMessage(header)} starts with chainHeader ${quoteForMessage(chainHeader as string)}, which names the chain elements`,
    );
  }
  if (options.xfccSingleElement !== undefined && format !== 'envoy-xfcc') {
    throw new CertificateError('CERT_CONFIG_INVALID', 'xfccSingleElement is only meaningful for envoy-xfcc');
  }
  const context: DecodeContext = {
    header,
    chainHeader,
    chainKind,
    maxHeaderLength: checkPositiveInteger(
      options.maxHeaderLength ?? DEFAULT_MAX_HEADER_LENGTH,
      'maxHeaderLength',
    ),
    maxChainLength: checkPositiveInteger(
      options.maxChainLength ?? DEFAULT_MAX_CHAIN_LENGTH,
      'maxChainLength',
    ),
    xfccSingleElement: options.xfccSingleElement ?? false,
  };
  const decode = DECODERS[format];
  const chainNames =
    chainKind === 'none'
      ? []
      : chainKind === 'single'
        ? [chainHeader as string]
        : Array.from({ length: context.maxChainLength }, (_, n) => `${chainHeader}${n}`);
  const collect = (rawHeaders: readonly string[]): HeaderInput => {
    const certLines = collectHeaderLines(rawHeaders, header);
    const chainLines = chainKind === 'single' ? collectHeaderLines(rawHeaders, chainHeader as string) : [];
    const numberedLines = chainKind === 'numbered' ? collectNumbered(rawHeaders, context) : [];
    if (certLines.length === 0 && (chainLines.length > 0 || numberedLines.some((l) => l.length > 0))) {
      throw malformed(context, `${chainHeader} is present without ${header}`);
    }
    return { certLines, chainLines, numberedLines };
  };
  return {
    format,
    headerNames: [header, ...chainNames],
    parse(rawHeaders: readonly string[]): ForwardedCertificate {
      return withCertificateErrors('CERT_HEADER_MALFORMED', `${header}: undecodable certificate header`, () =>
        decode(collect(rawHeaders), context),
      );
    },
    cacheKey(rawHeaders: readonly string[]): string | null {
      let input: HeaderInput;
      try {
        input = collect(rawHeaders);
      } catch {
        return null;
      }
      const all = [input.certLines, input.chainLines, ...input.numberedLines];
      if (input.certLines.length !== 1 || all.some((lines) => lines.length > 1)) return null;
      return JSON.stringify(all);
    },
  };
}

/**
 * The lines of each numbered chain header, by number. Every header whose name starts
 * with the prefix must be the prefix and a number below maxChainLength, written without
 * a leading zero: another name there (`_01`, `_5` of a 5-element limit, `_x`) was not
 * set by the proxy configuration this parser was built for.
 */
function collectNumbered(rawHeaders: readonly string[], context: DecodeContext): string[][] {
  const prefix = context.chainHeader as string;
  const lines: string[][] = Array.from({ length: context.maxChainLength }, () => []);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = String(rawHeaders[i]).toLowerCase();
    if (!name.startsWith(prefix)) continue;
    const suffix = name.slice(prefix.length);
    if (!/^(0|[1-9][0-9]{0,8})$/.test(suffix)) {
      throw malformed(context, `unexpected chain header ${quoteForMessage(name)}`);
    }
    const n = Number(suffix);
    if (n >= context.maxChainLength) {
      throw malformed(context, `chain has more than ${context.maxChainLength} certificates`);
    }
    lines[n].push(rawHeaders[i + 1]);
  }
  return lines;
}

/** One-shot form of createForwardedCertificateParser(options).parse(rawHeaders). */
export function parseForwardedCertificate(
  options: ForwardedCertificateParserOptions,
  rawHeaders: readonly string[],
): ForwardedCertificate {
  return createForwardedCertificateParser(options).parse(rawHeaders);
}
