import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa, issueClientCert } from './ca';
import { CertificateError, CertificateErrorCode } from './certificate-error';
import { encodeForwardedCertificate } from './forwarded-certificate.encoder';
import {
  createForwardedCertificateParser,
  FORWARDED_CERTIFICATE_FORMATS,
  ForwardedCertificateFormat,
  ForwardedCertificateParserOptions,
} from './forwarded-certificate.parser';
import { encodePem } from './pem';
import { percentEncodeAscii, PERCENT_SAFE_SETS } from './percent-encoding';

function expectCode(fn: () => unknown, code: CertificateErrorCode): CertificateError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CertificateError);
    expect((error as CertificateError).code).toBe(code);
    return error as CertificateError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

const parse = (options: ForwardedCertificateParserOptions, rawHeaders: readonly string[]) =>
  createForwardedCertificateParser(options).parse(rawHeaders);

describe('forwarded certificate parsers', () => {
  let dir: string;
  let leaf: X509Certificate;
  let other: X509Certificate;
  let intermediate: X509Certificate;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpa-fwd-'));
    const ca = await initCa(dir);
    intermediate = new X509Certificate(ca.intermediatePem);
    leaf = (await issueClientCert(dir, 'alice', { pkcs12: false })).certificate;
    other = (await issueClientCert(dir, 'bob', { pkcs12: false })).certificate;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  describe.each(FORWARDED_CERTIFICATE_FORMATS.map((format) => [format]))(
    '%s',
    (format: ForwardedCertificateFormat) => {
      it('round-trips a certificate encoded as the proxy sends it', () => {
        const result = parse({ format }, ['Host', 'x', ...encodeForwardedCertificate(format, leaf)]);
        expect(result.leaf.raw.equals(leaf.raw)).toBe(true);
        expect(result.chain).toEqual([]);
      });

      it('matches the header name case-insensitively and honours a custom header', () => {
        const [name, value] = encodeForwardedCertificate(format, leaf);
        expect(parse({ format }, [name.toUpperCase(), value]).leaf.raw.equals(leaf.raw)).toBe(true);
        const custom = parse({ format, header: 'X-Custom-Cert' }, ['x-custom-cert', value]);
        expect(custom.leaf.raw.equals(leaf.raw)).toBe(true);
      });

      it('refuses the certificate header on two lines, even when both are identical', () => {
        const headers = encodeForwardedCertificate(format, leaf).slice(0, 2);
        expectCode(() => parse({ format }, [...headers, ...headers]), 'CERT_HEADER_DUPLICATED');
      });

      it('reports an absent or empty header as CERT_MISSING', () => {
        expectCode(() => parse({ format }, ['Host', 'x']), 'CERT_MISSING');
        const [name] = encodeForwardedCertificate(format, leaf);
        expectCode(() => parse({ format }, [name, '']), 'CERT_MISSING');
        expectCode(() => parse({ format }, [name, '  ']), 'CERT_MISSING');
      });

      it('refuses junk around the value, a truncated value and an oversized line', () => {
        const [name, value] = encodeForwardedCertificate(format, leaf);
        // For XFCC, a prefix or a second element is valid grammar (an unknown key, an earlier element).
        const variants =
          format === 'envoy-xfcc'
            ? [`${value}x`, value.slice(0, value.length - 10)]
            : [`${value}x`, `x${value}`, value.slice(0, value.length - 10), `${value},${value}`];
        for (const bad of variants) {
          expectCode(() => parse({ format }, [name, bad]), 'CERT_HEADER_MALFORMED');
        }
        expectCode(() => parse({ format, maxHeaderLength: 100 }, [name, value]), 'CERT_HEADER_MALFORMED');
        expectCode(() => parse({ format }, [name, `${value}\u00e9`]), 'CERT_HEADER_MALFORMED');
      });

      it('refuses a malformed rawHeaders list without throwing anything else', () => {
        expectCode(() => parse({ format }, ['only-a-name']), 'CERT_HEADER_MALFORMED');
      });
    },
  );

  describe('rfc9440', () => {
    it('reads Client-Cert-Chain, also when split over several lines (RFC 9440 §2.3)', () => {
      const b64 = (cert: X509Certificate) => `:${cert.raw.toString('base64')}:`;
      const one = parse({ format: 'rfc9440' }, encodeForwardedCertificate('rfc9440', leaf, [intermediate]));
      expect(one.chain.map((cert) => cert.raw.equals(intermediate.raw))).toEqual([true]);
      const split = parse({ format: 'rfc9440' }, [
        'Client-Cert',
        b64(leaf),
        'Client-Cert-Chain',
        b64(intermediate),
        'Client-Cert-Chain',
        b64(other),
      ]);
      expect(split.chain).toHaveLength(2);
    });

    it('ignores structured-field parameters and accepts unpadded base64 as RFC 9651 says', () => {
      const unpadded = leaf.raw.toString('base64').replace(/=+$/, '');
      expect(
        parse({ format: 'rfc9440' }, ['client-cert', `:${unpadded}:;x=1`]).leaf.raw.equals(leaf.raw),
      ).toBe(true);
    });

    it('refuses a non-byte-sequence item, an inner list, a chain without leaf and a chain repeating the leaf', () => {
      const value = `:${leaf.raw.toString('base64')}:`;
      expectCode(() => parse({ format: 'rfc9440' }, ['client-cert', '"text"']), 'CERT_HEADER_MALFORMED');
      expectCode(
        () => parse({ format: 'rfc9440' }, ['client-cert', `${value}, ${value}`]),
        'CERT_HEADER_MALFORMED',
      );
      expectCode(() => parse({ format: 'rfc9440' }, ['client-cert-chain', value]), 'CERT_HEADER_MALFORMED');
      expectCode(
        () => parse({ format: 'rfc9440' }, ['client-cert', value, 'client-cert-chain', `(${value})`]),
        'CERT_HEADER_MALFORMED',
      );
      expectCode(
        () => parse({ format: 'rfc9440' }, ['client-cert', value, 'client-cert-chain', value]),
        'CERT_HEADER_MALFORMED',
      );
    });

    it('enforces the chain length limit', () => {
      const chain = Array.from({ length: 3 }, () => intermediate);
      expectCode(
        () =>
          parse({ format: 'rfc9440', maxChainLength: 2 }, encodeForwardedCertificate('rfc9440', leaf, chain)),
        'CERT_HEADER_MALFORMED',
      );
      const ignored = parse(
        { format: 'rfc9440', chainHeader: null },
        encodeForwardedCertificate('rfc9440', leaf, chain),
      );
      expect(ignored.chain).toEqual([]);
    });

    it('refuses DER with trailing bytes, which Node alone would accept', () => {
      const padded = Buffer.concat([leaf.raw, Buffer.from([0, 0])]);
      expect(() => new X509Certificate(padded)).not.toThrow();
      expectCode(
        () => parse({ format: 'rfc9440' }, ['client-cert', `:${padded.toString('base64')}:`]),
        'CERT_HEADER_MALFORMED',
      );
    });
  });

  describe('PEM-based formats', () => {
    const pem = () => encodePem(leaf.raw, 'CERTIFICATE');

    it('refuses two certificates where one is expected (nginx, ALB, Apache)', () => {
      const two = pem() + encodePem(other.raw, 'CERTIFICATE');
      expectCode(
        () =>
          parse({ format: 'nginx' }, [
            'x-ssl-client-escaped-cert',
            percentEncodeAscii(two, PERCENT_SAFE_SETS.nginx),
          ]),
        'CERT_HEADER_MALFORMED',
      );
      expectCode(
        () =>
          parse({ format: 'aws-alb' }, [
            'x-amzn-mtls-clientcert-leaf',
            percentEncodeAscii(two, PERCENT_SAFE_SETS.awsAlb),
          ]),
        'CERT_HEADER_MALFORMED',
      );
      expectCode(
        () => parse({ format: 'apache' }, ['ssl_client_cert', two.replace(/\n/g, ' ').trim()]),
        'CERT_HEADER_MALFORMED',
      );
    });

    it('refuses text around the PEM block, other labels and CRLF line ends', () => {
      const variants = [
        `subject=CN=admin\n${pem()}`,
        `${pem()}trailing`,
        pem().replace(/CERTIFICATE/g, 'TRUSTED CERTIFICATE'),
        pem().replace(/\n/g, '\r\n'),
        pem().replace('-----\n', '-----\n\n'),
      ];
      for (const text of variants) {
        expectCode(
          () =>
            parse({ format: 'nginx' }, [
              'x-ssl-client-escaped-cert',
              percentEncodeAscii(text, PERCENT_SAFE_SETS.nginx),
            ]),
          'CERT_HEADER_MALFORMED',
        );
      }
    });

    it('knows which characters each encoder leaves raw', () => {
      // ALB keeps + = / raw: accepted by aws-alb, refused by nginx (which escapes them).
      const alb = percentEncodeAscii(pem(), PERCENT_SAFE_SETS.awsAlb);
      expect(alb).toMatch(/[+/=]/);
      expectCode(
        () => parse({ format: 'nginx' }, ['x-ssl-client-escaped-cert', alb]),
        'CERT_HEADER_MALFORMED',
      );
      // A raw space (form-style encoding) or a bad escape is refused.
      expectCode(
        () => parse({ format: 'aws-alb' }, ['x-amzn-mtls-clientcert-leaf', alb.replace('%20', ' ')]),
        'CERT_HEADER_MALFORMED',
      );
      expectCode(
        () => parse({ format: 'aws-alb' }, ['x-amzn-mtls-clientcert-leaf', `${alb}%2`]),
        'CERT_HEADER_MALFORMED',
      );
      // Lowercase hex escapes are fine.
      const lower = percentEncodeAscii(pem(), PERCENT_SAFE_SETS.nginx).replace(/%0A/g, '%0a');
      expect(parse({ format: 'nginx' }, ['x-ssl-client-escaped-cert', lower]).leaf.raw.equals(leaf.raw)).toBe(
        true,
      );
    });

    it('treats Apache "(null)" as no certificate and refuses newlines kept as tabs', () => {
      expectCode(() => parse({ format: 'apache' }, ['ssl_client_cert', '(null)']), 'CERT_MISSING');
      expectCode(
        () => parse({ format: 'apache' }, ['ssl_client_cert', pem().replace(/\n/g, '\t').trim()]),
        'CERT_HEADER_MALFORMED',
      );
      expectCode(
        () => parse({ format: 'apache' }, ['ssl_client_cert', pem().replace(/\n/g, '  ').trim()]),
        'CERT_HEADER_MALFORMED',
      );
    });

    it('does not accept nginx $ssl_client_cert (tab-folded PEM)', () => {
      const folded = pem().trimEnd().replace(/\n/g, '\t');
      expectCode(
        () => parse({ format: 'nginx' }, ['x-ssl-client-escaped-cert', folded]),
        'CERT_HEADER_MALFORMED',
      );
    });
  });

  describe('haproxy', () => {
    it('refuses non-canonical base64: URL alphabet, missing padding, whitespace', () => {
      const b64 = leaf.raw.toString('base64');
      for (const bad of [
        leaf.raw.toString('base64url'),
        b64.replace(/=+$/, ''),
        `${b64.slice(0, 10)} ${b64.slice(10)}`,
      ]) {
        if (bad === b64) continue;
        expectCode(() => parse({ format: 'haproxy' }, ['x-ssl-client-cert', bad]), 'CERT_HEADER_MALFORMED');
      }
    });
  });

  describe('haproxy chain (%[ssl_c_chain_der,base64])', () => {
    const options = { format: 'haproxy', chainHeader: 'X-SSL-Client-Chain' } as const;
    const headers = (chain: string) => [
      ...encodeForwardedCertificate('haproxy', leaf),
      'x-ssl-client-chain',
      chain,
    ];

    it('reads DER certificates one after the other; empty means no chain', () => {
      const two = Buffer.concat([intermediate.raw, other.raw]).toString('base64');
      const result = parse(options, headers(two));
      expect(result.chain.map((c) => c.fingerprint256)).toEqual([
        intermediate.fingerprint256,
        other.fingerprint256,
      ]);
      expect(parse(options, headers('')).chain).toEqual([]);
      expect(parse(options, encodeForwardedCertificate('haproxy', leaf)).chain).toEqual([]);
      expect(createForwardedCertificateParser(options).headerNames).toEqual([
        'x-ssl-client-cert',
        'x-ssl-client-chain',
      ]);
    });

    it('round-trips the encoder with a chain', () => {
      const result = parse(options, encodeForwardedCertificate('haproxy', leaf, [intermediate, other]));
      expect(result.chain.map((c) => c.fingerprint256)).toEqual([
        intermediate.fingerprint256,
        other.fingerprint256,
      ]);
    });

    it('refuses trailing bytes, a non-certificate, too many certificates, the leaf, two lines', () => {
      const der = (...parts: Buffer[]) => Buffer.concat(parts).toString('base64');
      for (const bad of [
        der(intermediate.raw, Buffer.from([0, 0])),
        der(intermediate.raw.subarray(0, intermediate.raw.length - 1)),
        der(Buffer.from([0x30, 0x00])),
        der(...Array<Buffer>(6).fill(intermediate.raw)),
        der(leaf.raw),
        intermediate.raw.toString('base64url'),
      ]) {
        expectCode(() => parse(options, headers(bad)), 'CERT_HEADER_MALFORMED');
      }
      expect(parse(options, headers(der(...Array<Buffer>(5).fill(intermediate.raw)))).chain).toHaveLength(5);
      expectCode(
        () => parse(options, [...headers(der(intermediate.raw)), 'x-ssl-client-chain', der(other.raw)]),
        'CERT_HEADER_DUPLICATED',
      );
      expectCode(
        () => parse(options, ['x-ssl-client-chain', der(intermediate.raw)]),
        'CERT_HEADER_MALFORMED',
      );
    });
  });

  describe('apache chain (SSL_CLIENT_CERT_CHAIN_n)', () => {
    const options = { format: 'apache', chainHeader: 'SSL_CLIENT_CERT_CHAIN_' } as const;
    const pem = (cert: X509Certificate) => encodePem(cert.raw, 'CERTIFICATE').replace(/\n/g, ' ').trimEnd();
    const headers = (...chain: [string, string][]) => [
      ...encodeForwardedCertificate('apache', leaf),
      ...chain.flat(),
    ];

    it('reads the numbered headers from 0 until the first (null), empty or absent one', () => {
      const result = parse(
        options,
        headers(
          ['SSL_CLIENT_CERT_CHAIN_0', pem(intermediate)],
          ['ssl_client_cert_chain_1', pem(other)],
          ['SSL_CLIENT_CERT_CHAIN_2', '(null)'],
          ['SSL_CLIENT_CERT_CHAIN_3', ''],
        ),
      );
      expect(result.chain.map((c) => c.fingerprint256)).toEqual([
        intermediate.fingerprint256,
        other.fingerprint256,
      ]);
      expect(parse(options, headers(['SSL_CLIENT_CERT_CHAIN_0', '(null)'])).chain).toEqual([]);
      expect(createForwardedCertificateParser(options).headerNames).toEqual([
        'ssl_client_cert',
        ...[0, 1, 2, 3, 4].map((n) => `ssl_client_cert_chain_${n}`),
      ]);
    });

    it('round-trips the encoder with a chain', () => {
      const result = parse(options, encodeForwardedCertificate('apache', leaf, [intermediate, other]));
      expect(result.chain.map((c) => c.fingerprint256)).toEqual([
        intermediate.fingerprint256,
        other.fingerprint256,
      ]);
    });

    it('refuses a gap, a number past the limit, a leading zero, another name, two certificates, the leaf', () => {
      const bad: [string, string][][] = [
        [
          ['SSL_CLIENT_CERT_CHAIN_0', '(null)'],
          ['SSL_CLIENT_CERT_CHAIN_1', pem(intermediate)],
        ],
        [['SSL_CLIENT_CERT_CHAIN_5', pem(intermediate)]],
        [['SSL_CLIENT_CERT_CHAIN_5', '(null)']],
        [['SSL_CLIENT_CERT_CHAIN_01', pem(intermediate)]],
        [['SSL_CLIENT_CERT_CHAIN_x', pem(intermediate)]],
        [['SSL_CLIENT_CERT_CHAIN_', pem(intermediate)]],
        [['SSL_CLIENT_CERT_CHAIN_0', `${pem(intermediate)} ${pem(other)}`]],
        [['SSL_CLIENT_CERT_CHAIN_0', pem(leaf)]],
      ];
      for (const chain of bad) expectCode(() => parse(options, headers(...chain)), 'CERT_HEADER_MALFORMED');
      expectCode(
        () =>
          parse(
            options,
            headers(['SSL_CLIENT_CERT_CHAIN_0', pem(intermediate)], ['SSL_CLIENT_CERT_CHAIN_0', pem(other)]),
          ),
        'CERT_HEADER_DUPLICATED',
      );
    });

    it('has a cache key that changes with any chain element and is null for repeated headers', () => {
      const parser = createForwardedCertificateParser(options);
      const a = parser.cacheKey(headers(['SSL_CLIENT_CERT_CHAIN_0', pem(intermediate)]));
      const b = parser.cacheKey(headers(['SSL_CLIENT_CERT_CHAIN_0', pem(other)]));
      expect(a).not.toBeNull();
      expect(a).not.toBe(b);
      expect(parser.cacheKey(headers(['SSL_CLIENT_CERT_CHAIN_0', pem(intermediate)]))).toBe(a);
      expect(
        parser.cacheKey(
          headers(
            ['SSL_CLIENT_CERT_CHAIN_0', pem(intermediate)],
            ['SSL_CLIENT_CERT_CHAIN_0', pem(intermediate)],
          ),
        ),
      ).toBeNull();
      expect(parser.cacheKey(headers(['SSL_CLIENT_CERT_CHAIN_9', pem(intermediate)]))).toBeNull();
    });
  });

  describe('envoy-xfcc', () => {
    const hash = (cert: X509Certificate) => createHash('sha256').update(cert.raw).digest('hex');
    const docsElement =
      'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;' +
      'Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com';

    it('uses the last element: earlier ones came from proxies further away', () => {
      const [name, ours] = encodeForwardedCertificate('envoy-xfcc', leaf, [], {
        xfcc: { by: 'spiffe://proxy' },
      });
      const theirs = encodeForwardedCertificate('envoy-xfcc', other)[1];
      expect(
        parse({ format: 'envoy-xfcc' }, [name, `${docsElement},${theirs},${ours}`]).leaf.raw.equals(leaf.raw),
      ).toBe(true);
      expect(parse({ format: 'envoy-xfcc' }, [name, `${ours},${theirs}`]).leaf.raw.equals(other.raw)).toBe(
        true,
      );
      // The last element only has a Hash (Envoy without set_current_client_cert_details.cert).
      const error = expectCode(
        () => parse({ format: 'envoy-xfcc' }, [name, `${ours},${docsElement}`]),
        'CERT_MISSING',
      );
      expect(error.message).toMatch(/forward Cert/);
    });

    it('parses quoted values with commas, semicolons and escaped quotes around the Cert', () => {
      const [name, value] = encodeForwardedCertificate('envoy-xfcc', leaf, [], {
        xfcc: {
          by: 'spiffe://cluster.local/ns/default/sa/proxy',
          subject: 'CN=mallory\\, Jr.;O="Evil, Inc",C=US',
          uri: ['spiffe://cluster.local/ns/default/sa/alice'],
          dns: ['alice.example', 'www.alice.example'],
        },
      });
      expect(value).toContain('Subject="CN=mallory\\\\, Jr.;O=\\"Evil, Inc\\",C=US"');
      expect(parse({ format: 'envoy-xfcc' }, [name, value]).leaf.raw.equals(leaf.raw)).toBe(true);
    });

    it('refuses a Hash that does not match the certificate, or is not a SHA-256 hex digest', () => {
      const [name, value] = encodeForwardedCertificate('envoy-xfcc', leaf);
      const wrong = value.replace(hash(leaf), hash(other));
      expect(
        expectCode(() => parse({ format: 'envoy-xfcc' }, [name, wrong]), 'CERT_HEADER_MALFORMED').message,
      ).toMatch(/Hash does not match/);
      expectCode(
        () => parse({ format: 'envoy-xfcc' }, [name, value.replace(hash(leaf), 'abc')]),
        'CERT_HEADER_MALFORMED',
      );
      // Uppercase hex is the same digest.
      expect(
        parse({ format: 'envoy-xfcc' }, [name, value.replace(hash(leaf), hash(leaf).toUpperCase())]).leaf,
      ).toBeDefined();
    });

    it('takes the leaf from Chain (leaf first) and the rest as chain; Cert and Chain must agree', () => {
      const [name, both] = encodeForwardedCertificate('envoy-xfcc', leaf, [intermediate]);
      const result = parse({ format: 'envoy-xfcc' }, [name, both]);
      expect(result.leaf.raw.equals(leaf.raw)).toBe(true);
      expect(result.chain.map((cert) => cert.raw.equals(intermediate.raw))).toEqual([true]);
      const chainOnly = encodeForwardedCertificate('envoy-xfcc', leaf, [intermediate], {
        xfcc: { cert: false },
      })[1];
      expect(parse({ format: 'envoy-xfcc' }, [name, chainOnly]).leaf.raw.equals(leaf.raw)).toBe(true);
      const encoded = (certs: X509Certificate[]) =>
        percentEncodeAscii(
          certs.map((cert) => encodePem(cert.raw, 'CERTIFICATE')).join(''),
          PERCENT_SAFE_SETS.envoy,
        );
      const mismatched = `Cert="${encoded([leaf])}";Chain="${encoded([other, intermediate])}"`;
      expectCode(() => parse({ format: 'envoy-xfcc' }, [name, mismatched]), 'CERT_HEADER_MALFORMED');
    });

    it('with xfccSingleElement, refuses a second element (e.g. smuggled through an unquoted URI SAN)', () => {
      const [name, ours] = encodeForwardedCertificate('envoy-xfcc', leaf, [], {
        xfcc: { uri: ['spiffe://a'] },
      });
      const smuggled = `${ours},${encodeForwardedCertificate('envoy-xfcc', other)[1]}`;
      expect(parse({ format: 'envoy-xfcc' }, [name, smuggled]).leaf.raw.equals(other.raw)).toBe(true);
      expectCode(
        () => parse({ format: 'envoy-xfcc', xfccSingleElement: true }, [name, smuggled]),
        'CERT_HEADER_MALFORMED',
      );
      expect(
        parse({ format: 'envoy-xfcc', xfccSingleElement: true }, [name, ours]).leaf.raw.equals(leaf.raw),
      ).toBe(true);
    });

    it('refuses a repeated Cert key and a malformed grammar', () => {
      const [name, value] = encodeForwardedCertificate('envoy-xfcc', leaf, [], { xfcc: { hash: false } });
      expectCode(() => parse({ format: 'envoy-xfcc' }, [name, `${value};${value}`]), 'CERT_HEADER_MALFORMED');
      expectCode(() => parse({ format: 'envoy-xfcc' }, [name, `${value};`]), 'CERT_HEADER_MALFORMED');
      expectCode(() => parse({ format: 'envoy-xfcc' }, [name, value.slice(0, -1)]), 'CERT_HEADER_MALFORMED');
    });
  });

  describe('configuration', () => {
    it('refuses unknown formats, bad header names and options for another format', () => {
      const cases: ForwardedCertificateParserOptions[] = [
        { format: 'guess' as ForwardedCertificateFormat },
        { format: 'nginx', header: 'bad header' },
        { format: 'nginx', chainHeader: 'x-chain' },
        { format: 'aws-alb', chainHeader: 'x-chain' },
        { format: 'apache', chainHeader: 'ssl_client_' },
        { format: 'haproxy', chainHeader: 'x-ssl-client-cert' },
        { format: 'rfc9440', chainHeader: 'client-cert' },
        { format: 'nginx', xfccSingleElement: true },
        { format: 'nginx', maxHeaderLength: 0 },
        { format: 'nginx', maxChainLength: 1.5 },
      ];
      for (const options of cases)
        expectCode(() => createForwardedCertificateParser(options), 'CERT_CONFIG_INVALID');
    });

    it('exposes the header names it reads', () => {
      expect(createForwardedCertificateParser({ format: 'rfc9440' }).headerNames).toEqual([
        'client-cert',
        'client-cert-chain',
      ]);
      expect(createForwardedCertificateParser({ format: 'haproxy' }).headerNames).toEqual([
        'x-ssl-client-cert',
      ]);
    });
  });
});
