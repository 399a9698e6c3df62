import { createHash, X509Certificate } from 'node:crypto';
import {
  DEFAULT_CERTIFICATE_HEADERS,
  DEFAULT_RFC9440_CHAIN_HEADER,
  ForwardedCertificateFormat,
} from './forwarded-certificate.parser';
import { encodePem } from './pem';
import { PERCENT_SAFE_SETS, percentEncodeAscii } from './percent-encoding';
import { formatXfccElement } from './xfcc';

export interface XfccEncodeOptions {
  /** Proxy's own URI SAN (By=). */
  readonly by?: string;
  /** Include Hash= (default true). */
  readonly hash?: boolean;
  /** Include Cert= (default true). */
  readonly cert?: boolean;
  /** Include Chain= (leaf + chain, as Envoy does). Default: when a chain is given. */
  readonly chain?: boolean;
  readonly subject?: string;
  readonly uri?: readonly string[];
  readonly dns?: readonly string[];
  /** Elements added by proxies further away, placed before ours. */
  readonly previousElements?: readonly string[];
}

export interface EncodeOptions {
  readonly header?: string;
  readonly chainHeader?: string;
  readonly xfcc?: XfccEncodeOptions;
}

/**
 * Encodes a certificate the way each proxy puts it on the wire, returning a
 * Node-style rawHeaders list. Meant for tests (of this module and of
 * applications using it) and for documentation of the formats; it mirrors
 * exactly what the decoders accept.
 */
export function encodeForwardedCertificate(
  format: ForwardedCertificateFormat,
  leaf: X509Certificate,
  chain: readonly X509Certificate[] = [],
  options: EncodeOptions = {},
): string[] {
  const header = options.header ?? DEFAULT_CERTIFICATE_HEADERS[format];
  const pem = (cert: X509Certificate): string => encodePem(cert.raw, 'CERTIFICATE');
  switch (format) {
    case 'rfc9440': {
      const headers = [header, `:${leaf.raw.toString('base64')}:`];
      if (chain.length > 0) {
        headers.push(
          options.chainHeader ?? DEFAULT_RFC9440_CHAIN_HEADER,
          chain.map((cert) => `:${cert.raw.toString('base64')}:`).join(', '),
        );
      }
      return headers;
    }
    case 'nginx':
      return [header, percentEncodeAscii(pem(leaf), PERCENT_SAFE_SETS.nginx)];
    case 'aws-alb':
      return [header, percentEncodeAscii(pem(leaf), PERCENT_SAFE_SETS.awsAlb)];
    case 'apache': {
      // mod_headers turns each LF into a space; the HTTP parser then drops the trailing one.
      const apache = (cert: X509Certificate) => pem(cert).replace(/\n/g, ' ').trimEnd();
      // One header per chain certificate: <chainHeader>0, <chainHeader>1, ...
      const prefix = options.chainHeader ?? 'ssl_client_cert_chain_';
      return [header, apache(leaf), ...chain.flatMap((cert, n) => [`${prefix}${n}`, apache(cert)])];
    }
    case 'haproxy': {
      const headers = [header, leaf.raw.toString('base64')];
      // %[ssl_c_chain_der,base64]: the DER certificates one after the other.
      if (chain.length > 0) {
        headers.push(
          options.chainHeader ?? 'x-ssl-client-chain',
          Buffer.concat(chain.map((cert) => cert.raw)).toString('base64'),
        );
      }
      return headers;
    }
    case 'envoy-xfcc': {
      const xfcc = options.xfcc ?? {};
      const pairs: [string, string][] = [];
      if (xfcc.by !== undefined) pairs.push(['By', xfcc.by]);
      if (xfcc.hash !== false) pairs.push(['Hash', createHash('sha256').update(leaf.raw).digest('hex')]);
      if (xfcc.cert !== false) pairs.push(['Cert', percentEncodeAscii(pem(leaf), PERCENT_SAFE_SETS.envoy)]);
      if (xfcc.chain ?? chain.length > 0) {
        pairs.push([
          'Chain',
          percentEncodeAscii([leaf, ...chain].map(pem).join(''), PERCENT_SAFE_SETS.envoy),
        ]);
      }
      if (xfcc.subject !== undefined) pairs.push(['Subject', xfcc.subject]);
      for (const uri of xfcc.uri ?? []) pairs.push(['URI', uri]);
      for (const dns of xfcc.dns ?? []) pairs.push(['DNS', dns]);
      return [header, [...(xfcc.previousElements ?? []), formatXfccElement(pairs)].join(',')];
    }
  }
}
