import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';
import {
  createForwardedCertificateParser,
  DEFAULT_CERTIFICATE_HEADERS,
  FORWARDED_CERTIFICATE_FORMATS,
  ForwardedCertificateFormat,
  ForwardedCertificateParser,
  loadCertificateBundle,
  VerifyStatusSyntax,
} from '../certificates';
import { KeypairAuthConfigurationError as ConfigError } from '../errors/configuration.error';
import { USERNAME_PATTERN } from '../keys/user-directory.interface';
import { optionFieldNames } from '../options/option-field-names';

/**
 * The weaker mode: no certificate, only the subject DN the proxy verified
 * (`SSL_CLIENT_S_DN`) and its verdict (`SSL_CLIENT_VERIFY`). Opt in by naming it.
 */
export const LEGACY_SUBJECT_DN_FORMAT = 'legacy-subject-dn';
export type ClientCertificateFormat = ForwardedCertificateFormat | typeof LEGACY_SUBJECT_DN_FORMAT;
export const CLIENT_CERTIFICATE_FORMATS: readonly ClientCertificateFormat[] = [
  ...FORWARDED_CERTIFICATE_FORMATS,
  LEGACY_SUBJECT_DN_FORMAT,
];

/** Map a certificate to the account registered for its SHA-256 fingerprint. */
export interface FingerprintMappingRule {
  readonly by: 'fingerprint';
}

/**
 * Map a certificate by a name in it, looked up as a username. The name must
 * occur exactly once (one CN in the whole subject, one SAN of that kind), must
 * start with `prefix` and end with `suffix` when given (both are stripped), and
 * what remains must match `usernamePattern`. Nothing is normalised: no case
 * folding, no trimming, no unescaping.
 */
export interface NameMappingRule {
  readonly by: 'subject-cn' | 'san-email' | 'san-uri' | 'san-dns';
  /** Literal text the value must start with, removed before the lookup (e.g. `spiffe://corp.example/user/`). */
  readonly prefix?: string;
  /** Literal text the value must end with, removed before the lookup (e.g. `@corp.example`). */
  readonly suffix?: string;
}

export type CertificateMappingRule = FingerprintMappingRule | NameMappingRule;
export const MAPPING_KINDS = ['fingerprint', 'subject-cn', 'san-email', 'san-uri', 'san-dns'] as const;

export interface ClientCertificateOptions {
  /**
   * Where the certificate comes from: `proxy` (default), a TLS-terminating proxy
   * that forwards it in a header; or `tls`, this app serving HTTPS itself with
   * `requestCert: true`.
   */
  source?: 'proxy' | 'tls';
  /**
   * proxy: how your proxy encodes the certificate (required): `nginx`, `apache`,
   * `envoy-xfcc`, `haproxy`, `aws-alb`, `rfc9440`, or the weaker `legacy-subject-dn`.
   */
  format?: ClientCertificateFormat;
  /**
   * proxy: the TCP peers allowed to send certificate headers, as addresses or CIDRs
   * (`10.0.0.5`, `10.0.0.0/24`, `::1`, or `loopback`). Required. Certificate headers
   * from any other peer are refused with 400 CERT_HEADER_UNTRUSTED.
   */
  trustedProxies?: string[];
  /** proxy: the certificate header, when your proxy uses another name than the format's default. */
  header?: string;
  /**
   * proxy: the certificates the client sent after its leaf, untrusted helpers for building a
   * path to `caBundle` (never trust anchors). rfc9440: the chain header (default
   * `client-cert-chain`). haproxy: the header with `%[ssl_c_chain_der,base64]` (no default).
   * apache: the name before the number of the headers with `%{SSL_CLIENT_CERT_CHAIN_n}s`,
   * n from 0 (e.g. `ssl_client_cert_chain_`; no default). At most 5 certificates.
   * null ignores any chain. Other formats forward no chain.
   */
  chainHeader?: string | null;
  /**
   * proxy: the header carrying the proxy's verdict; anything but success is refused.
   * nginx, apache, legacy-subject-dn: `SUCCESS`, `NONE`, `FAILED:…` (defaults
   * `x-ssl-client-verify` for nginx, `ssl_client_verify` for apache and legacy-subject-dn).
   * haproxy: `%[ssl_c_verify]`, where only exactly `0` passes (no default; name it, e.g.
   * `x-ssl-client-verify`). None for the others. null: not read.
   */
  verifyHeader?: string | null;
  /** legacy-subject-dn: the header with the RFC 2253 subject DN (default `ssl_client_s_dn`). */
  subjectDnHeader?: string;
  /** envoy-xfcc: refuse a header with more than one element (set with SANITIZE_SET). */
  xfccSingleElement?: boolean;
  /**
   * Re-verify the certificate against these CAs (PEM text, or the path of a PEM file):
   * chain, dates, clientAuth EKU, key and signature strength (no certificate with
   * nameConstraints). Recommended behind a proxy, and required with format `apache` and a
   * name mapping. With `tls`, Node's verdict must pass as well when the server was given
   * a `ca`; without one, this decides alone.
   */
  caBundle?: string;
  /** A CRL file (PEM or DER) signed by a CA of `caBundle`; re-read when it changes. Needs caBundle. */
  crlFile?: string;
  /** How often the CRL file is checked for changes, in seconds (default 60). */
  crlRefreshSeconds?: number;
  /** Refuse certificates whose issuer no CRL covers (default false). Needs crlFile. */
  requireRevocationCheck?: boolean;
  /** Require the clientAuth extended key usage when re-verifying (default true). */
  requireClientAuthEku?: boolean;
  /** How a certificate becomes an account, tried in order (default `{ by: 'fingerprint' }`). */
  mapping?: CertificateMappingRule | CertificateMappingRule[];
  /** What a name taken from a certificate must look like to be looked up (default: the built-in username rule). */
  usernamePattern?: RegExp;
  /**
   * proxy: accept certificates mapped by a name (subject-cn, san-*) although nothing here
   * checks who issued them: no `caBundle` and no `verifyHeader` with the proxy's verdict.
   * Then any certificate the proxy forwards (self-signed, from any CA, a server
   * certificate) becomes the account its name says. Without this flag that configuration
   * refuses to start. Set it only when the proxy itself refuses every certificate its CA
   * did not issue for client authentication. Default false. Never enough with format
   * `apache`: a name mapping there needs caBundle.
   */
  trustForwardedCertificatesWithoutVerification?: boolean;
}

/** Client-certificate options after validation. */
export interface ResolvedClientCertificateOptions {
  readonly source: 'proxy' | 'tls';
  readonly format: ClientCertificateFormat | null;
  /** null for tls and legacy-subject-dn. */
  readonly parser: ForwardedCertificateParser | null;
  readonly trustedProxies: readonly string[];
  /** True when the TCP peer may send certificate headers. */
  readonly isTrustedPeer: (address: string | undefined) => boolean;
  readonly verifyHeader: string | null;
  /** How the verdict is written: HAProxy's numeric ssl_c_verify for format haproxy, else text. */
  readonly verifySyntax: VerifyStatusSyntax;
  readonly subjectDnHeader: string | null;
  /** Lowercased names of every header this configuration reads. */
  readonly headerNames: readonly string[];
  readonly trustAnchors: readonly X509Certificate[] | null;
  readonly crlFile: string | null;
  readonly crlRefreshMs: number;
  readonly requireRevocationCheck: boolean;
  readonly requireClientAuth: boolean;
  readonly mapping: readonly CertificateMappingRule[];
  readonly usernamePattern: RegExp;
}

const KNOWN_KEYS: readonly (keyof ClientCertificateOptions)[] = [
  'source',
  'format',
  'trustedProxies',
  'header',
  'chainHeader',
  'verifyHeader',
  'subjectDnHeader',
  'xfccSingleElement',
  'caBundle',
  'crlFile',
  'crlRefreshSeconds',
  'requireRevocationCheck',
  'requireClientAuthEku',
  'mapping',
  'usernamePattern',
  'trustForwardedCertificatesWithoutVerification',
];

const DEFAULT_VERIFY_HEADERS: Partial<Record<ClientCertificateFormat, string>> = {
  nginx: 'x-ssl-client-verify',
  apache: 'ssl_client_verify',
  [LEGACY_SUBJECT_DN_FORMAT]: 'ssl_client_verify',
};
const DEFAULT_SUBJECT_DN_HEADER = 'ssl_client_s_dn';
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** proxy-addr's named ranges (none covers a whole address family). */
const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function fail(problem: string, fix: string): never {
  throw ConfigError.create(`clientCertificate.${problem}`, fix);
}

function headerName(name: string, value: unknown): string {
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    fail(`${name} must be an HTTP header name (got ${JSON.stringify(value)}).`, 'Use letters, digits and -.');
  }
  return (value as string).toLowerCase();
}

function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(`${name} must be true or false.`, 'Pass a boolean.');
  return value as boolean;
}

/**
 * Validates `clientCertificate` at startup (null when it is not configured).
 * Reads the CA bundle file here, so an unreadable or invalid bundle stops the
 * app with its path in the message; the CRL is loaded by the provider (its
 * signature check is asynchronous).
 */
export function validateClientCertificateOptions(raw: unknown): ResolvedClientCertificateOptions | null {
  if (raw === undefined) return null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(
      'options must be an object.',
      "Pass clientCertificate: { format: 'nginx', trustedProxies: [...] }.",
    );
  }
  const options = raw as ClientCertificateOptions;
  for (const key of optionFieldNames(options)) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
      fail(`${key} is not an option.`, `Known options: ${KNOWN_KEYS.join(', ')}.`);
    }
  }
  const source = options.source ?? 'proxy';
  if (source !== 'proxy' && source !== 'tls') {
    fail(`source must be 'proxy' or 'tls' (got ${JSON.stringify(source)}).`, 'Leave it out for proxy.');
  }

  const trustAnchors = options.caBundle === undefined ? null : loadCaBundle(options.caBundle);
  const crlFile = options.crlFile === undefined ? null : checkedFile('crlFile', options.crlFile);
  if (crlFile !== null && trustAnchors === null) {
    fail('crlFile needs caBundle.', 'Set caBundle to the CA certificates that sign the CRL.');
  }
  const requireRevocationCheck = bool('requireRevocationCheck', options.requireRevocationCheck, false);
  if (requireRevocationCheck && crlFile === null) {
    fail('requireRevocationCheck needs crlFile.', 'Configure crlFile, or leave requireRevocationCheck out.');
  }
  const crlRefreshSeconds = options.crlRefreshSeconds ?? 60;
  if (typeof crlRefreshSeconds !== 'number' || !(crlRefreshSeconds >= 0 && crlRefreshSeconds <= 86_400)) {
    fail('crlRefreshSeconds must be a number from 0 to 86400.', 'Leave it out for the default of 60.');
  }
  const mapping = validateMapping(options.mapping);
  const usernamePattern = options.usernamePattern ?? USERNAME_PATTERN;
  if (
    !(usernamePattern instanceof RegExp) ||
    !usernamePattern.source.startsWith('^') ||
    !usernamePattern.source.endsWith('$')
  ) {
    fail(
      'usernamePattern must be a RegExp anchored with ^ and $.',
      'Anchor it so a name cannot match by a part of it.',
    );
  }
  const common = {
    trustAnchors,
    crlFile,
    crlRefreshMs: crlRefreshSeconds * 1000,
    requireRevocationCheck,
    requireClientAuth: bool('requireClientAuthEku', options.requireClientAuthEku, true),
    mapping,
    usernamePattern,
  };

  if (source === 'tls') {
    for (const key of [
      'format',
      'trustedProxies',
      'header',
      'chainHeader',
      'verifyHeader',
      'subjectDnHeader',
      'xfccSingleElement',
      'trustForwardedCertificatesWithoutVerification',
    ] as const) {
      if (options[key] !== undefined) {
        fail(`${key} only applies to source 'proxy'.`, "Remove it, or set source: 'proxy'.");
      }
    }
    return {
      ...common,
      source,
      format: null,
      parser: null,
      trustedProxies: [],
      isTrustedPeer: () => false,
      verifyHeader: null,
      verifySyntax: 'text',
      subjectDnHeader: null,
      headerNames: [],
    };
  }

  const format = options.format;
  if (format === undefined || !(CLIENT_CERTIFICATE_FORMATS as readonly string[]).includes(format)) {
    fail(
      `format ${format === undefined ? 'is required' : `${JSON.stringify(format)} is unknown`} for source 'proxy'.`,
      `Name your proxy's format, one of: ${CLIENT_CERTIFICATE_FORMATS.map((f) => `'${f}'`).join(', ')}. It is never guessed.`,
    );
  }
  const { list: trustedProxies, trust } = validateTrustedProxies(options.trustedProxies);
  const verifyHeader =
    options.verifyHeader === null
      ? null
      : options.verifyHeader === undefined
        ? (DEFAULT_VERIFY_HEADERS[format as ClientCertificateFormat] ?? null)
        : headerName('verifyHeader', options.verifyHeader);

  if (format === LEGACY_SUBJECT_DN_FORMAT) {
    for (const key of ['header', 'chainHeader', 'xfccSingleElement', 'caBundle', 'crlFile'] as const) {
      if (options[key] !== undefined) {
        fail(
          `${key} does not apply to format '${LEGACY_SUBJECT_DN_FORMAT}' (there is no certificate).`,
          'Remove it.',
        );
      }
    }
    if (verifyHeader === null) {
      fail(
        `verifyHeader is required with format '${LEGACY_SUBJECT_DN_FORMAT}'.`,
        'Forward the proxy verdict (SSL_CLIENT_VERIFY): a DN alone proves nothing.',
      );
    }
    if (mapping.some((rule) => rule.by !== 'subject-cn')) {
      fail(
        `mapping can only use { by: 'subject-cn' } with format '${LEGACY_SUBJECT_DN_FORMAT}'.`,
        'Forward the certificate itself (for example nginx $ssl_client_escaped_cert) to map by fingerprint or SAN.',
      );
    }
    if (
      !bool(
        'trustForwardedCertificatesWithoutVerification',
        options.trustForwardedCertificatesWithoutVerification,
        false,
      )
    ) {
      // No certificate reaches the app, so nothing here can check its issuer again; and a verdict
      // can lie: mod_ssl with SSLVerifyClient optional_no_ca says SUCCESS on a resumed TLS 1.2
      // session for a certificate of any CA.
      fail(
        `format '${LEGACY_SUBJECT_DN_FORMAT}' trusts the proxy's verdict alone, and a verdict can say SUCCESS for a ` +
          'certificate of any CA (Apache SSLVerifyClient optional_no_ca, on a resumed TLS session).',
        'Forward the certificate itself (format apache or nginx) and set caBundle; or, only if your proxy refuses every ' +
          'certificate your CA did not issue at the handshake (Apache SSLVerifyClient require, nginx ssl_verify_client on), ' +
          'say so with trustForwardedCertificatesWithoutVerification: true.',
      );
    }
    const subjectDnHeader = headerName(
      'subjectDnHeader',
      options.subjectDnHeader ?? DEFAULT_SUBJECT_DN_HEADER,
    );
    return {
      ...common,
      source,
      format,
      parser: null,
      trustedProxies,
      isTrustedPeer: trust,
      verifyHeader,
      verifySyntax: 'text',
      subjectDnHeader,
      headerNames: [subjectDnHeader, verifyHeader as string],
    };
  }
  if (options.subjectDnHeader !== undefined) {
    fail(`subjectDnHeader only applies to format '${LEGACY_SUBJECT_DN_FORMAT}'.`, 'Remove it.');
  }
  let parser: ForwardedCertificateParser;
  try {
    parser = createForwardedCertificateParser({
      format: format as ForwardedCertificateFormat,
      header: options.header === undefined ? undefined : headerName('header', options.header),
      chainHeader: options.chainHeader,
      xfccSingleElement: options.xfccSingleElement,
    });
  } catch (error) {
    return fail(
      `${(error as Error).message}.`,
      `Check header/chainHeader/xfccSingleElement for format '${format}' (default header ${DEFAULT_CERTIFICATE_HEADERS[format as ForwardedCertificateFormat]}).`,
    );
  }
  const chainPrefix =
    format === 'apache' && typeof options.chainHeader === 'string' ? options.chainHeader : null;
  if (chainPrefix !== null && verifyHeader?.startsWith(chainPrefix.toLowerCase())) {
    fail(
      `verifyHeader ${JSON.stringify(verifyHeader)} starts with chainHeader ${JSON.stringify(chainPrefix)}, which names the chain elements.`,
      "Use a chainHeader of its own, e.g. 'ssl_client_cert_chain_'.",
    );
  }
  requireIssuerCheck(options, format as ForwardedCertificateFormat, verifyHeader, trustAnchors, mapping);
  return {
    ...common,
    source,
    format,
    parser,
    trustedProxies,
    isTrustedPeer: trust,
    verifyHeader,
    verifySyntax: format === 'haproxy' ? 'haproxy' : 'text',
    subjectDnHeader: null,
    headerNames: verifyHeader === null ? [...parser.headerNames] : [...parser.headerNames, verifyHeader],
  };
}

/**
 * A name in a certificate means something only if someone checked who issued it: this
 * app (`caBundle`) or the proxy (its verdict in `verifyHeader`). Mapping by fingerprint
 * needs neither: only certificates registered one by one match, and the proxy's TLS
 * handshake proved the client holds the key.
 */
function requireIssuerCheck(
  options: ClientCertificateOptions,
  format: ForwardedCertificateFormat,
  verifyHeader: string | null,
  trustAnchors: readonly X509Certificate[] | null,
  mapping: readonly CertificateMappingRule[],
): void {
  const optOut = bool(
    'trustForwardedCertificatesWithoutVerification',
    options.trustForwardedCertificatesWithoutVerification,
    false,
  );
  const byName = mapping.filter((rule) => rule.by !== 'fingerprint').map((rule) => rule.by);
  if (format === 'apache' && trustAnchors === null && byName.length > 0) {
    // mod_ssl with SSLVerifyClient optional_no_ca resets the verify result to OK once the handshake
    // is done, and a resumed TLS 1.2 session carries that OK: SSL_CLIENT_VERIFY then says SUCCESS for
    // a certificate of any CA. Only this app's own check of the issuer makes the name mean something.
    fail(
      `maps forwarded 'apache' certificates by ${byName.join(', ')} without caBundle: Apache's SSL_CLIENT_VERIFY ` +
        'alone does not prove who issued them (with SSLVerifyClient optional_no_ca a resumed TLS session reports ' +
        'SUCCESS for a certificate of any CA).',
      'Set caBundle to the CA file Apache uses (SSLCACertificateFile), or map only ' +
        "{ by: 'fingerprint' }. trustForwardedCertificatesWithoutVerification does not lift this.",
    );
  }
  if (optOut || trustAnchors !== null || verifyHeader !== null || byName.length === 0) return;
  fail(
    `maps forwarded '${format}' certificates by ${byName.join(', ')}, but nothing checks who issued them ` +
      '(no caBundle, no verifyHeader): a self-signed certificate or one from any CA would become the account it names.',
    'Set caBundle to the CAs that issue your client certificates; or forward the proxy verdict ' +
      "and name its header in verifyHeader (format 'nginx' or 'apache' read it by default); or map only " +
      "{ by: 'fingerprint' }; or, if your proxy refuses every certificate your CA did not issue, " +
      'set trustForwardedCertificatesWithoutVerification: true.',
  );
}

function validateTrustedProxies(value: unknown): {
  list: string[];
  trust: (address: string | undefined) => boolean;
} {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v === '')) {
    return fail(
      "trustedProxies is required for source 'proxy': the addresses or CIDRs of your TLS-terminating proxies.",
      "For example trustedProxies: ['10.0.0.5'] or ['10.0.0.0/24']; certificate headers from any other peer are refused.",
    );
  }
  const list = value as string[];
  const invalid = (error: unknown): never =>
    fail(
      `trustedProxies has an invalid entry (${(error as Error).message}).`,
      "Use IP addresses, CIDRs (10.0.0.0/8), or 'loopback', 'linklocal', 'uniquelocal'.",
    );
  let ranges: AddressRange[] = [];
  try {
    ranges = list.flatMap((entry) => (NAMED_RANGES[entry] ?? [entry]).map(addressRange));
  } catch (error) {
    invalid(error);
  }
  const everyone = coveredFamily(ranges);
  if (everyone !== null) {
    fail(
      `trustedProxies ${JSON.stringify(list)} covers every ${everyone} address: anyone could then forge a certificate header.`,
      'List only the proxies that terminate TLS in front of this app.',
    );
  }
  let compiled: (address: string, i: number) => boolean = () => false;
  try {
    compiled = proxyAddr.compile(list);
  } catch (error) {
    invalid(error);
  }
  return {
    list: [...list],
    trust: (address) => typeof address === 'string' && address !== '' && compiled(address, 0),
  };
}

/**
 * An inclusive range of addresses in one family, as integers. Written here because no
 * library we depend on answers "does this list cover every address": proxy-addr only
 * matches one address, its ipaddr.js copy is private, and node:net BlockList only checks
 * single addresses too. The parsing leans on node:net isIP and the WHATWG URL parser.
 */
interface AddressRange {
  readonly family: 4 | 6;
  readonly start: bigint;
  readonly end: bigint;
}

const IPV4_MAPPED = 0xffffn << 32n; // ::ffff:0:0/96

/**
 * `address`, `address/prefix` or (IPv4) `address/netmask` as a range. An IPv4-mapped
 * IPv6 range (::ffff:a.b.c.d/n) counts as the IPv4 range it matches, as in proxy-addr.
 */
function addressRange(entry: string): AddressRange {
  const [address, mask, ...rest] = entry.trim().split('/');
  const family = isIP(address);
  if ((family !== 4 && family !== 6) || rest.length > 0)
    throw new Error(`${entry} is not an address or CIDR`);
  const bits = family === 4 ? 32 : 128;
  const value = family === 4 ? ipv4Value(address) : ipv6Value(address);
  let prefix = bits;
  if (mask !== undefined) {
    if (/^\d{1,3}$/.test(mask)) prefix = Number(mask);
    else if (family === 4 && isIP(mask) === 4) prefix = netmaskPrefix(ipv4Value(mask));
    else prefix = NaN;
    if (!(prefix >= 0 && prefix <= bits)) throw new Error(`${entry} has an invalid prefix`);
  }
  const host = (1n << BigInt(bits - prefix)) - 1n;
  const start = value & ~host;
  const range: AddressRange = { family, start, end: start | host };
  if (family === 6 && prefix >= 96 && start >> 32n === IPV4_MAPPED >> 32n) {
    return { family: 4, start: start & 0xffffffffn, end: range.end & 0xffffffffn };
  }
  return range;
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** Via the WHATWG URL parser, which writes any valid IPv6 literal as hex groups with at most one `::`. */
function ipv6Value(address: string): bigint {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head, tail] = canonical.split('::');
  const groups = (text: string | undefined) => (text ? text.split(':') : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function netmaskPrefix(mask: bigint): number {
  for (let ones = 0; ones <= 32; ones++) {
    if (mask === ((0xffffffffn << BigInt(32 - ones)) & 0xffffffffn)) return ones;
  }
  return NaN;
}

/**
 * 'IPv4' or 'IPv6' when the union of the ranges covers that whole family (IPv4-mapped
 * IPv6 ranges count for IPv4, as proxy-addr matches them), else null.
 */
function coveredFamily(ranges: readonly AddressRange[]): 'IPv4' | 'IPv6' | null {
  const covers = (family: 4 | 6, last: bigint): boolean => {
    const sorted = ranges
      .filter((range) => range.family === family)
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let next = 0n; // first address not covered yet
    for (const range of sorted) {
      if (range.start > next) return false;
      if (range.end >= next) next = range.end + 1n;
      if (next > last) return true;
    }
    return false;
  };
  if (covers(4, 0xffffffffn)) return 'IPv4';
  if (covers(6, (1n << 128n) - 1n)) return 'IPv6';
  return null;
}

function validateMapping(value: unknown): CertificateMappingRule[] {
  const rules = value === undefined ? [{ by: 'fingerprint' }] : Array.isArray(value) ? value : [value];
  if (rules.length === 0) fail('mapping must name at least one rule.', "Use { by: 'fingerprint' }.");
  const seen = new Set<string>();
  return rules.map((rule: unknown, i): CertificateMappingRule => {
    const r = rule as { by?: unknown; prefix?: unknown; suffix?: unknown };
    const where = `mapping[${i}]`;
    if (r === null || typeof r !== 'object' || !(MAPPING_KINDS as readonly unknown[]).includes(r.by)) {
      fail(
        `${where} must be { by: ${MAPPING_KINDS.map((k) => `'${k}'`).join(' | ')} } (got ${JSON.stringify(rule)}).`,
        'Fix the rule.',
      );
    }
    const key = `${String(r.by)}|${r.prefix ?? ''}|${r.suffix ?? ''}`;
    if (seen.has(key)) fail(`${where} repeats an earlier rule.`, 'Remove the duplicate.');
    seen.add(key);
    for (const k of optionFieldNames(r)) {
      if (!['by', 'prefix', 'suffix'].includes(k) || (r.by === 'fingerprint' && k !== 'by')) {
        fail(`${where}.${k} is not an option of { by: '${String(r.by)}' }.`, 'Remove it.');
      }
    }
    for (const k of ['prefix', 'suffix'] as const) {
      if (r[k] !== undefined && (typeof r[k] !== 'string' || r[k] === '')) {
        fail(`${where}.${k} must be a non-empty string.`, 'Fix or remove it.');
      }
    }
    return r.by === 'fingerprint'
      ? { by: 'fingerprint' }
      : {
          by: r.by as NameMappingRule['by'],
          prefix: r.prefix as string | undefined,
          suffix: r.suffix as string | undefined,
        };
  });
}

function checkedFile(name: string, path: unknown): string {
  if (typeof path !== 'string' || path === '') fail(`${name} must be a file path.`, 'Fix or remove it.');
  if (!existsSync(path as string)) {
    fail(
      `${name} ${JSON.stringify(path)} does not exist.`,
      'Check the path (relative paths start at the working directory).',
    );
  }
  return path as string;
}

/** PEM text as is, or else a file path whose content is read now. */
function loadCaBundle(value: unknown): readonly X509Certificate[] {
  if (typeof value !== 'string' || value.trim() === '') {
    return fail('caBundle must be PEM text or the path of a PEM file.', 'Fix or remove it.');
  }
  let pem = value;
  let what = 'caBundle';
  if (!value.includes('-----BEGIN')) {
    what = `caBundle file ${JSON.stringify(value)}`;
    try {
      pem = readFileSync(value, 'utf8');
    } catch (error) {
      return fail(
        `caBundle file ${JSON.stringify(value)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
        'Check the path and its permissions, or pass the PEM text itself.',
      );
    }
  }
  try {
    return loadCertificateBundle(pem, what);
  } catch (error) {
    return fail(
      `${(error as Error).message}.`,
      'caBundle must hold one or more "-----BEGIN CERTIFICATE-----" blocks: the CAs that issue client certificates.',
    );
  }
}
