import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const HOUR = 3_600_000;

/** A client certificate with the certificates it sends after it, as PEM and as parsed objects. */
export interface HostileChain {
  readonly leaf: X509Certificate;
  readonly chain: readonly X509Certificate[];
  /** Leaf PEM (what `send({ client })` presents first). */
  readonly certPem: string;
  /** The chain certificates, PEM, in the order they are sent. */
  readonly chainPem: string;
  readonly keyPem: string;
}

function pem(der: ArrayBuffer, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * The chain that made path building explore every path: a leaf plus `count` self-issued
 * "CA" certificates that share one name and one key (each signed by that key, so each
 * one "issues" the leaf and every other one), none of them reaching a trust anchor.
 * Nobody's private key is needed: the attacker makes all of it.
 */
export async function hostileChain(count = 12, name = 'Test Root'): Promise<HostileChain> {
  const caKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const leafKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - HOUR);
  const notAfter = new Date(Date.now() + 24 * HOUR);
  const chain: X509Certificate[] = [];
  for (let i = 0; i < count; i++) {
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: (0x100 + i).toString(16),
        subject: `CN=${name}`,
        issuer: `CN=${name}`,
        notBefore,
        notAfter,
        publicKey: caKeys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: SIGNING,
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
      },
      webcrypto,
    );
    chain.push(new X509Certificate(Buffer.from(cert.rawData)));
  }
  const leaf = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '0badc0de',
      subject: 'CN=mallory',
      issuer: `CN=${name}`,
      notBefore,
      notAfter,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: SIGNING,
      extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
    },
    webcrypto,
  );
  return {
    leaf: new X509Certificate(Buffer.from(leaf.rawData)),
    chain,
    certPem: pem(leaf.rawData, 'CERTIFICATE'),
    chainPem: chain.map((cert) => cert.toString()).join(''),
    keyPem: pem(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey), 'PRIVATE KEY'),
  };
}
