import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCa } from '../certificates/ca';
import { KeypairAuthConfigurationError } from '../errors/configuration.error';
import type { KeypairAuthModuleOptions } from '../keypair-auth-options.interface';
import { validateOptions } from '../options/validate-options';
import { validateClientCertificateOptions } from './client-certificate-options';

describe('clientCertificate options', () => {
  let dir: string;
  let bundlePath: string;
  let bundlePem: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpa-cc-options-'));
    const ca = await initCa(join(dir, 'ca'));
    bundlePath = ca.layout.caBundle;
    bundlePem = ca.caBundlePem;
    await writeFile(join(dir, 'junk.pem'), 'not a certificate');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("is off by default, and 'client-certificate' is enabled only when configured", () => {
    expect(validateOptions({}).clientCertificate).toBeNull();
    expect([...validateOptions({}).strategies]).not.toContain('client-certificate');
    const on = validateOptions({ clientCertificate: { format: 'nginx', trustedProxies: ['10.0.0.5'] } });
    expect([...on.strategies]).toEqual(['jwt', 'http-signature', 'client-certificate']);
    expect(on.clientCertificate).toMatchObject({
      source: 'proxy',
      format: 'nginx',
      verifyHeader: 'x-ssl-client-verify',
      headerNames: ['x-ssl-client-escaped-cert', 'x-ssl-client-verify'],
      mapping: [{ by: 'fingerprint' }],
      trustAnchors: null,
    });
  });

  it('reads the HAProxy verdict as ssl_c_verify numbers and the Apache/HAProxy chain only when named', () => {
    const haproxy = validateClientCertificateOptions({
      format: 'haproxy',
      trustedProxies: ['10.0.0.7'],
      verifyHeader: 'X-SSL-Client-Verify',
      chainHeader: 'X-SSL-Client-Chain',
    })!;
    expect(haproxy).toMatchObject({
      verifySyntax: 'haproxy',
      headerNames: ['x-ssl-client-cert', 'x-ssl-client-chain', 'x-ssl-client-verify'],
    });
    expect(
      validateClientCertificateOptions({ format: 'haproxy', trustedProxies: ['10.0.0.7'] }),
    ).toMatchObject({
      verifySyntax: 'haproxy',
      verifyHeader: null,
      headerNames: ['x-ssl-client-cert'],
    });
    const apache = validateClientCertificateOptions({
      format: 'apache',
      trustedProxies: ['10.0.0.6'],
      chainHeader: 'ssl_client_cert_chain_',
    })!;
    expect(apache.verifySyntax).toBe('text');
    expect(apache.headerNames).toEqual([
      'ssl_client_cert',
      ...[0, 1, 2, 3, 4].map((n) => `ssl_client_cert_chain_${n}`),
      'ssl_client_verify',
    ]);
    for (const options of [
      { format: 'apache', chainHeader: 'ssl_client_' },
      { format: 'apache', chainHeader: 'ssl_client_v' },
      { format: 'nginx', chainHeader: 'x-chain' },
    ] as const) {
      expect(() => validateClientCertificateOptions({ ...options, trustedProxies: ['10.0.0.6'] })).toThrow(
        KeypairAuthConfigurationError,
      );
    }
  });

  it('trusts exactly the configured proxies, by TCP peer address', () => {
    const resolved = validateClientCertificateOptions({
      format: 'nginx',
      trustedProxies: ['10.0.0.0/24', '::1'],
    })!;
    expect(resolved.isTrustedPeer('10.0.0.7')).toBe(true);
    expect(resolved.isTrustedPeer('::ffff:10.0.0.7')).toBe(true);
    expect(resolved.isTrustedPeer('::1')).toBe(true);
    expect(resolved.isTrustedPeer('10.0.1.7')).toBe(false);
    expect(resolved.isTrustedPeer('127.0.0.1')).toBe(false);
    expect(resolved.isTrustedPeer(undefined)).toBe(false);
    expect(resolved.isTrustedPeer('not an address')).toBe(false);
  });

  it('reads caBundle as PEM text or from a file', () => {
    const fromText = validateClientCertificateOptions({ source: 'tls', caBundle: bundlePem })!;
    const fromFile = validateClientCertificateOptions({ source: 'tls', caBundle: bundlePath })!;
    expect(fromText.trustAnchors).toHaveLength(2);
    expect(fromFile.trustAnchors?.map((c) => c.fingerprint256)).toEqual(
      fromText.trustAnchors?.map((c) => c.fingerprint256),
    );
  });

  it.each<[unknown, RegExp]>([
    [
      { strategies: ['client-certificate'] },
      /strategy 'client-certificate' needs the clientCertificate option/,
    ],
    [
      { strategies: ['jwt'], clientCertificate: { source: 'tls' } },
      /clientCertificate is set but 'client-certificate' is not in strategies/,
    ],
    [{ clientCertificate: { format: 'nginx' } }, /trustedProxies is required for source 'proxy'/],
    [{ clientCertificate: { trustedProxies: ['10.0.0.5'] } }, /format is required.*never guessed/],
    [
      { clientCertificate: { format: 'traefik', trustedProxies: ['10.0.0.5'] } },
      /format "traefik" is unknown/,
    ],
    [{ clientCertificate: { format: 'nginx', trustedProxies: ['0.0.0.0/0'] } }, /covers every IPv4 address/],
    ...[
      ['::/0'],
      ['0::/0'],
      ['0.0.0.0/1', '128.0.0.0/1'],
      ['0.0.0.0/0.0.0.0'],
      ['::ffff:0:0/96'],
      ['::ffff:0.0.0.0/97', '::ffff:128.0.0.0/97'],
      ['::/1', '8000::/1'],
      ['10.0.0.5', '0.0.0.0/2', '64.0.0.0/2', '128.0.0.0/1'],
    ].map((trustedProxies): [unknown, RegExp] => [
      { clientCertificate: { format: 'nginx', trustedProxies } },
      /covers every IPv[46] address: anyone could then forge.*List only the proxies/,
    ]),
    ...[{ format: 'rfc9440' }, { format: 'envoy-xfcc' }, { format: 'nginx', verifyHeader: null }].map(
      (format): [unknown, RegExp] => [
        {
          clientCertificate: { ...format, trustedProxies: ['10.0.0.5'], mapping: { by: 'san-email' } },
        },
        /nothing checks who issued them.*Set caBundle.*verifyHeader.*trustForwardedCertificatesWithoutVerification: true/,
      ],
    ),
    [
      { clientCertificate: { source: 'tls', trustForwardedCertificatesWithoutVerification: true } },
      /only applies to source 'proxy'/,
    ],
    [{ clientCertificate: { format: 'nginx', trustedProxies: ['10.0.0.300'] } }, /invalid entry/],
    [
      { clientCertificate: { source: 'tls', trustedProxies: ['10.0.0.5'] } },
      /only applies to source 'proxy'/,
    ],
    [{ clientCertificate: { source: 'mtls' } }, /source must be 'proxy' or 'tls'/],
    [
      { clientCertificate: { source: 'tls', caBundle: '/nonexistent/ca.pem' } },
      /cannot be read \(ENOENT\).*Check the path/,
    ],
    [
      { clientCertificate: { source: 'tls', crlFile: '/nonexistent/crl.pem' } },
      /crlFile "\/nonexistent\/crl.pem" does not exist/,
    ],
    [{ clientCertificate: { source: 'tls', mapping: { by: 'subject' } } }, /mapping\[0\] must be/],
    [{ clientCertificate: { source: 'tls', mapping: [] } }, /at least one rule/],
    [
      { clientCertificate: { source: 'tls', mapping: { by: 'fingerprint', prefix: 'x' } } },
      /mapping\[0\]\.prefix is not an option/,
    ],
    [{ clientCertificate: { source: 'tls', usernamePattern: /[a-z]+/ } }, /anchored/],
    [{ clientCertificate: { source: 'tls', crlRefresh: 1 } }, /crlRefresh is not an option/],
    [
      { clientCertificate: { format: 'legacy-subject-dn', trustedProxies: ['10.0.0.5'] } },
      /mapping can only use \{ by: 'subject-cn' \}/,
    ],
    [
      {
        clientCertificate: {
          format: 'legacy-subject-dn',
          trustedProxies: ['10.0.0.5'],
          verifyHeader: null,
          mapping: { by: 'subject-cn' },
        },
      },
      /verifyHeader is required.*a DN alone proves nothing/,
    ],
    [
      { clientCertificate: { format: 'nginx', trustedProxies: ['10.0.0.5'], chainHeader: 'x-chain' } },
      /chainHeader is only meaningful for rfc9440/,
    ],
  ])('refuses %j with a message that names the fix', (options, message) => {
    const run = () => validateOptions(options as unknown as KeypairAuthModuleOptions);
    expect(run).toThrow(KeypairAuthConfigurationError);
    expect(run).toThrow(message);
  });

  it('keeps lists that leave some address out, and reads them as proxy-addr does', () => {
    for (const trustedProxies of [
      ['0.0.0.0/1'],
      ['0.0.0.0/1', '128.0.0.0/2', '192.0.0.0/3', '224.0.0.0/4'],
      ['loopback', 'linklocal', 'uniquelocal'],
      ['::/1', '8000::/2'],
      ['::ffff:10.0.0.1', '10.0.0.0/255.0.0.0'],
    ]) {
      expect(validateClientCertificateOptions({ format: 'nginx', trustedProxies })).not.toBeNull();
    }
    const mapped = validateClientCertificateOptions({
      format: 'nginx',
      trustedProxies: ['::ffff:10.0.0.0/120'],
    });
    expect(['10.0.0.7', '::ffff:10.0.0.7', '10.0.1.7'].map((a) => mapped!.isTrustedPeer(a))).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('starts without a CA check only where none is needed, or when the opt-out says so', () => {
    const proxy = { trustedProxies: ['10.0.0.5'] };
    // Fingerprints match only certificates registered one by one.
    expect(validateClientCertificateOptions({ ...proxy, format: 'rfc9440' })).not.toBeNull();
    // The proxy's verdict, or our own re-verification, checks the issuer.
    const byCn = { mapping: { by: 'subject-cn' as const } };
    expect(validateClientCertificateOptions({ ...proxy, ...byCn, format: 'nginx' })).not.toBeNull();
    expect(
      validateClientCertificateOptions({
        ...proxy,
        ...byCn,
        format: 'envoy-xfcc',
        verifyHeader: 'x-verified',
      }),
    ).not.toBeNull();
    expect(
      validateClientCertificateOptions({ ...proxy, ...byCn, format: 'rfc9440', caBundle: bundlePem }),
    ).not.toBeNull();
    expect(
      validateClientCertificateOptions({
        ...proxy,
        ...byCn,
        format: 'rfc9440',
        trustForwardedCertificatesWithoutVerification: true,
      }),
    ).not.toBeNull();
    expect(() =>
      validateClientCertificateOptions({
        ...proxy,
        ...byCn,
        format: 'rfc9440',
        trustForwardedCertificatesWithoutVerification: 'yes' as never,
      }),
    ).toThrow(/must be true or false/);
  });

  it("RED CASE (red-team 5 F1): Apache's verdict alone is not enough to map by name; caBundle is", () => {
    const apache = { format: 'apache' as const, trustedProxies: ['10.0.0.6'] };
    for (const extra of [{}, { trustForwardedCertificatesWithoutVerification: true }]) {
      for (const mapping of [
        { by: 'subject-cn' as const },
        [{ by: 'fingerprint' as const }, { by: 'san-email' as const }],
      ]) {
        const run = () => validateClientCertificateOptions({ ...apache, ...extra, mapping });
        expect(run).toThrow(KeypairAuthConfigurationError);
        expect(run).toThrow(
          /without caBundle: Apache's SSL_CLIENT_VERIFY alone does not prove who issued them \(with SSLVerifyClient optional_no_ca a resumed TLS session reports SUCCESS.*Set caBundle to the CA file Apache uses \(SSLCACertificateFile\)/,
        );
      }
    }
    expect(
      validateClientCertificateOptions({ ...apache, mapping: { by: 'subject-cn' }, caBundle: bundlePem }),
    ).not.toBeNull();
    expect(validateClientCertificateOptions({ ...apache, mapping: { by: 'fingerprint' } })).not.toBeNull();
  });

  it('refuses a caBundle file without certificates, and a CRL without caBundle', () => {
    expect(() =>
      validateClientCertificateOptions({ source: 'tls', caBundle: join(dir, 'junk.pem') }),
    ).toThrow(/contains no certificate|not valid PEM/);
    expect(() => validateClientCertificateOptions({ source: 'tls', crlFile: bundlePath })).toThrow(
      /crlFile needs caBundle/,
    );
  });
});
