import { generateKeyPairSync } from 'node:crypto';
import { encodeForwardedCertificate, IssuedCertificate, KeypairAuthModuleOptions } from '../../src';
import { send } from '../support/certificates';
import { createTestApp } from '../support/test-app';
import { AttackCase, startupRefusal } from './attack-harness';
import { ATTACKER, AttackEnv, TRUSTED_PROXY } from './attack-env';

type Case = AttackCase<AttackEnv>;

/** What nginx forwards for a verified client certificate (the snippet in examples/nginx). */
const nginx = (cert: IssuedCertificate, verify = 'SUCCESS'): string[] => [
  ...encodeForwardedCertificate('nginx', cert.certificate),
  'X-SSL-Client-Verify',
  verify,
];
/** From the trusted proxy (127.0.0.1), unless `from` says otherwise. */
const whoami = (env: AttackEnv, headers: string[], from?: string) =>
  env.send('/probe/whoami', { headers, localAddress: from });

type CertificateOptions = NonNullable<KeypairAuthModuleOptions['clientCertificate']>;

/** Starts (and closes) an app with these client-certificate options: status 0 when the module refuses. */
const starts = (env: AttackEnv, clientCertificate: CertificateOptions) =>
  startupRefusal(async () => {
    const t = await createTestApp({
      adapter: env.adapter,
      database: 'sqlite',
      options: { clientCertificate },
    });
    await t.close();
  });
const CONFIG_REFUSED = { status: 0, code: 'KeypairAuthConfigurationError' };
/** RFC 9440 from the trusted proxy: a format that carries no verdict of the proxy. */
const rfc9440 = (mapping: CertificateOptions['mapping'], extra: Partial<CertificateOptions> = {}) =>
  ({ format: 'rfc9440', trustedProxies: [TRUSTED_PROXY], mapping, ...extra }) as CertificateOptions;
const catchAll = (trustedProxies: string[]): Case => ({
  name: `cert/startup-trusted-proxies-${trustedProxies.join('+')}`,
  attack: 'trustedProxies that cover every IPv4 or IPv6 address, written so the literal check misses it',
  request: `startup with trustedProxies ${JSON.stringify(trustedProxies)}`,
  expect: CONFIG_REFUSED,
  run: (env) => starts(env, { format: 'nginx', trustedProxies }),
});

export const CERTIFICATE_CASES: Case[] = [
  {
    name: 'cert/startup-rfc9440-name-mapping-without-ca',
    attack:
      'forwarded certificates with no proxy verdict and no caBundle, mapped by name: any self-signed ' +
      'or rogue-CA certificate would become the user its CN names',
    request: "startup with format 'rfc9440', mapping subject-cn, no caBundle",
    expect: CONFIG_REFUSED,
    run: (env) => starts(env, rfc9440([{ by: 'fingerprint' }, { by: 'subject-cn' }])),
  },
  {
    name: 'cert/startup-apache-name-mapping-without-ca',
    attack:
      'RED CASE (red-team 5 F1): Apache optional_no_ca resets the verify result, and a resumed TLS 1.2 ' +
      'session carries SSL_CLIENT_VERIFY SUCCESS for a CN=admin certificate of any CA; an app that maps ' +
      "format 'apache' by name with no caBundle trusted that verdict alone",
    request:
      "startup with format 'apache' (verdict ssl_client_verify by default), mapping subject-cn, no caBundle",
    expect: CONFIG_REFUSED,
    run: (env) =>
      starts(env, { format: 'apache', trustedProxies: [TRUSTED_PROXY], mapping: { by: 'subject-cn' } }),
  },
  {
    name: 'cert/startup-apache-name-mapping-without-ca-opt-out',
    attack: 'the same, with trustForwardedCertificatesWithoutVerification: true (which does not lift it)',
    request: "startup with format 'apache', mapping san-dns, the opt-out, no caBundle",
    expect: CONFIG_REFUSED,
    run: (env) =>
      starts(env, {
        format: 'apache',
        trustedProxies: [TRUSTED_PROXY],
        mapping: [{ by: 'fingerprint' }, { by: 'san-dns' }],
        trustForwardedCertificatesWithoutVerification: true,
      }),
  },
  {
    name: 'cert/startup-legacy-subject-dn-on-verdict-alone',
    attack:
      "RED CASE (red-team 5 F1, legacy): format 'legacy-subject-dn' has no certificate to check again, so behind Apache " +
      'optional_no_ca a resumed TLS 1.2 session (SSL_CLIENT_VERIFY SUCCESS) made a CN=admin certificate of any CA the admin',
    request:
      "startup with format 'legacy-subject-dn', mapping subject-cn, without trustForwardedCertificatesWithoutVerification",
    expect: CONFIG_REFUSED,
    run: (env) =>
      starts(env, {
        format: 'legacy-subject-dn',
        trustedProxies: [TRUSTED_PROXY],
        mapping: { by: 'subject-cn' },
      }),
  },
  {
    name: 'cert/startup-xfcc-san-mapping-without-ca',
    attack: 'the same with Envoy XFCC (no verdict header by default) mapped by SAN URI',
    request: "startup with format 'envoy-xfcc', mapping san-uri, no caBundle",
    expect: CONFIG_REFUSED,
    run: (env) =>
      starts(env, { format: 'envoy-xfcc', trustedProxies: [TRUSTED_PROXY], mapping: { by: 'san-uri' } }),
  },
  {
    name: 'cert/startup-nginx-verdict-turned-off',
    attack: 'nginx with its verdict header turned off (verifyHeader: null), mapped by CN, no caBundle',
    request: "startup with format 'nginx', verifyHeader null, mapping subject-cn, no caBundle",
    expect: CONFIG_REFUSED,
    run: (env) =>
      starts(env, {
        format: 'nginx',
        trustedProxies: [TRUSTED_PROXY],
        verifyHeader: null,
        mapping: { by: 'subject-cn' },
      }),
  },
  {
    name: 'cert/fingerprint-only-without-ca-self-signed-named-user',
    attack:
      'where no CA is needed (rfc9440, fingerprint mapping only): a self-signed certificate whose CN ' +
      'is a registered user, forwarded by the proxy',
    request: 'Client-Cert of CN=registered from another CA, fingerprint not registered',
    expect: { status: 401, code: 'CERT_UNKNOWN' },
    run: async (env) => {
      const t = await createTestApp({
        adapter: env.adapter,
        database: 'sqlite',
        options: { clientCertificate: rfc9440({ by: 'fingerprint' }) },
      });
      try {
        await t.addUser('registered', ['reader']);
        return await send(`${t.server}/probe/whoami`, {
          headers: encodeForwardedCertificate('rfc9440', env.certs.otherCa.certificate),
          localAddress: TRUSTED_PROXY,
        });
      } finally {
        await t.close();
      }
    },
  },
  catchAll(['0::/0']),
  catchAll(['0.0.0.0/1', '128.0.0.0/1']),
  catchAll(['::ffff:0:0/96']),
  catchAll(['::/1', '8000::/1']),
  catchAll(['10.0.0.1', '0.0.0.0/0.0.0.0']),
  {
    name: 'cert/forged-nginx-headers-untrusted-peer',
    attack: 'a client talks to the app directly and forges the headers nginx would set',
    request: `from ${ATTACKER}: X-SSL-Client-Escaped-Cert + X-SSL-Client-Verify: SUCCESS`,
    expect: { status: 400, code: 'CERT_HEADER_UNTRUSTED' },
    run: (env) => whoami(env, nginx(env.certs.registered), ATTACKER),
  },
  {
    name: 'cert/forged-xfcc-untrusted-peer',
    attack: 'forged Envoy X-Forwarded-Client-Cert (a format the app is not even configured for)',
    request: `from ${ATTACKER}: X-Forwarded-Client-Cert: Hash=...;Cert=...`,
    expect: { status: 400, code: 'CERT_HEADER_UNTRUSTED' },
    run: (env) =>
      whoami(env, encodeForwardedCertificate('envoy-xfcc', env.certs.registered.certificate), ATTACKER),
  },
  {
    name: 'cert/forged-rfc9440-untrusted-peer',
    attack: 'forged RFC 9440 Client-Cert',
    request: `from ${ATTACKER}: Client-Cert: :base64 DER:`,
    expect: { status: 400, code: 'CERT_HEADER_UNTRUSTED' },
    run: (env) =>
      whoami(env, encodeForwardedCertificate('rfc9440', env.certs.registered.certificate), ATTACKER),
  },
  {
    name: 'cert/forged-subject-dn-untrusted-peer',
    attack: 'forged legacy subject-DN headers naming admin',
    request: `from ${ATTACKER}: SSL_CLIENT_S_DN: CN=admin, SSL_CLIENT_VERIFY: SUCCESS`,
    expect: { status: 400, code: 'CERT_HEADER_UNTRUSTED' },
    run: (env) => whoami(env, ['SSL_CLIENT_S_DN', 'CN=admin', 'SSL_CLIENT_VERIFY', 'SUCCESS'], ATTACKER),
  },
  {
    name: 'cert/name-mapped-unregistered-adds-key',
    attack:
      'a certificate matched only by its CN (no registration, so nothing bounds its life here) adds a permanent key to the account',
    request: 'POST /keys {publicKey} with the nginx headers of a CA-issued, unregistered CN=unregistered',
    expect: { status: 403, code: 'KEY_REGISTRATION_NEEDS_KEY_PROOF' },
    run: async (env) => {
      const post = (cert: IssuedCertificate) =>
        env.send('/keys', {
          method: 'POST',
          headers: [...nginx(cert), 'content-type', 'application/json'],
          body: JSON.stringify({
            publicKey: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
          }),
        });
      // Control: a registered certificate adds a key that expires with the certificate.
      const registered = await post(env.certs.registered);
      const expiresAt = (registered.body as { expiresAt?: string }).expiresAt;
      if (
        registered.status !== 201 ||
        expiresAt === undefined ||
        Date.parse(expiresAt) > Date.now() + 400 * 86_400_000
      )
        throw new Error(`registered certificate: ${registered.status} ${registered.text.slice(0, 200)}`);
      if ((await env.t.registry.directory.findByUsername('unregistered')) === null)
        await env.t.addUser('unregistered', ['reader']);
      return post(env.certs.unregistered);
    },
  },
  {
    name: 'cert/cn-injection-slash',
    attack: 'a certificate from our CA whose CN is "mallory/CN=admin" (OpenSSL slash-form confusion)',
    request: 'nginx headers of CN=mallory/CN=admin, mapped by subject-cn',
    expect: { status: 401, code: 'CERT_SUBJECT_INVALID' },
    run: (env) => whoami(env, nginx(env.certs['cn-with-slash'])),
  },
  {
    name: 'cert/cn-injection-two-cns',
    attack: 'a subject with two CNs, mallory and admin, hoping the mapping reads the wrong one',
    request: 'nginx headers of CN=mallory + CN=admin',
    expect: { status: 401, code: 'CERT_SUBJECT_INVALID' },
    run: (env) => whoami(env, nginx(env.certs['two-cns'])),
  },
  {
    name: 'cert/cn-unicode-lookalike',
    attack: 'CN "ädmin", a look-alike of admin',
    request: 'nginx headers of CN=ädmin',
    expect: { status: 401, code: 'CERT_SUBJECT_INVALID' },
    run: (env) => whoami(env, nginx(env.certs['cn-utf8-lookalike'])),
  },
  {
    name: 'cert/cn-zero-width',
    attack: 'CN "ad\\u200bmin" with a zero-width space',
    request: 'nginx headers of CN=ad<ZWSP>min',
    expect: { status: 401, code: 'CERT_SUBJECT_INVALID' },
    run: (env) => whoami(env, nginx(env.certs['cn-zero-width'])),
  },
  {
    name: 'cert/cn-bidi-override',
    attack: 'CN "\\u202enimda", which displays as admin',
    request: 'nginx headers of CN=<RLO>nimda',
    expect: { status: 401, code: 'CERT_SUBJECT_INVALID' },
    run: (env) => whoami(env, nginx(env.certs['cn-bidi-override'])),
  },
  {
    name: 'cert/expired',
    attack: 'an expired certificate that the proxy still passed',
    request: 'nginx headers of a certificate past notAfter, verdict SUCCESS',
    expect: { status: 401, code: 'CERT_EXPIRED' },
    run: (env) => whoami(env, nginx(env.certs.expired)),
  },
  {
    name: 'cert/revoked-by-crl',
    attack: 'a certificate listed in the CA’s CRL (the proxy does not check it)',
    request: 'nginx headers of a CRL-revoked, registered certificate',
    expect: { status: 401, code: 'CERT_REVOKED' },
    run: (env) => whoami(env, nginx(env.certs.crlRevoked)),
  },
  {
    name: 'cert/revoked-registration',
    attack: 'a certificate whose registration was revoked through the admin API',
    request: 'nginx headers of a certificate revoked in the registry',
    expect: { status: 401, code: 'CERT_REVOKED' },
    run: (env) => whoami(env, nginx(env.certs.revokedReg)),
  },
  {
    name: 'cert/other-ca',
    attack: 'a certificate for a registered name from another CA',
    request: 'nginx headers of CN=registered issued by an unrelated CA',
    expect: { status: 401, code: 'CERT_UNTRUSTED' },
    run: (env) => whoami(env, nginx(env.certs.otherCa)),
  },
  {
    name: 'cert/proxy-verdict-failed',
    attack: 'a certificate the proxy refused, forwarded anyway',
    request: 'X-SSL-Client-Verify: FAILED:certificate revoked',
    expect: { status: 401, code: 'CERT_VERIFY_FAILED' },
    run: (env) => whoami(env, nginx(env.certs.registered, 'FAILED:certificate revoked')),
  },
  {
    name: 'cert/no-verdict',
    attack: 'a certificate header without the proxy’s verdict',
    request: 'X-SSL-Client-Escaped-Cert only',
    expect: { status: 401, code: 'CERT_VERIFY_FAILED' },
    run: (env) => whoami(env, nginx(env.certs.registered).slice(0, 2)),
  },
  {
    name: 'cert/duplicated-header',
    attack: 'two certificate headers: one the proxy set, one the client added',
    request: 'X-SSL-Client-Escaped-Cert twice',
    expect: { status: 400, code: 'CERT_HEADER_DUPLICATED' },
    run: (env) => whoami(env, [...nginx(env.certs.registered), ...nginx(env.certs.unregistered).slice(0, 2)]),
  },
  {
    name: 'cert/malformed-header',
    attack: 'a certificate header that does not decode',
    request: 'X-SSL-Client-Escaped-Cert: -----BEGIN%20CERTIFICATE-----%0Ajunk',
    expect: { status: 400, code: 'CERT_HEADER_MALFORMED' },
    run: (env) =>
      whoami(env, [
        'X-SSL-Client-Escaped-Cert',
        '-----BEGIN%20CERTIFICATE-----%0Ajunk',
        'X-SSL-Client-Verify',
        'SUCCESS',
      ]),
  },
  {
    name: 'cert/no-client-auth-eku',
    attack: 'a certificate from our CA not meant for client authentication',
    request: 'nginx headers of a certificate without the clientAuth EKU',
    expect: { status: 401, code: 'CERT_EKU_MISSING' },
    run: (env) => whoami(env, nginx(env.certs.noEku)),
  },
  {
    name: 'cert/inactive-account',
    attack: 'a valid, registered certificate of a deactivated account',
    request: 'nginx headers of ivy’s certificate',
    expect: { status: 401, code: 'USER_INACTIVE' },
    run: (env) => whoami(env, nginx(env.certs.inactive)),
  },
  {
    name: 'cert/require-signature-route',
    attack: 'a forwarded client certificate on a route whose @RequireSignature() asks for a signed body',
    request: 'POST /probe/strict with the nginx headers of a registered certificate, body unsigned',
    expect: { status: 401, code: 'SIGNATURE_REQUIRED' },
    run: (env) =>
      env.send('/probe/strict', {
        method: 'POST',
        headers: [...nginx(env.certs.registered), 'Content-Type', 'application/json'],
        body: '{}',
      }),
  },
];
