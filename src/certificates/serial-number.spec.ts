import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { certificateSerialNumber, normalizeSerialNumber } from './serial-number';

describe('normalizeSerialNumber', () => {
  it.each([
    ['00ab', 'AB'],
    ['0AB', 'AB'],
    ['ab:cd:0e', 'ABCD0E'],
    ['0', '0'],
    ['0000', '0'],
    ['7F01', '7F01'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeSerialNumber(input)).toBe(expected);
  });

  it.each(['', 'xyz', '-1', 'ab:c', 'a b', ':ab', '0x1f', 'f'.repeat(65)])('refuses %j', (input) => {
    expect(() => normalizeSerialNumber(input)).toThrow(
      expect.objectContaining({ code: 'CERT_CONFIG_INVALID' }),
    );
  });

  it('reads certificate serials from the DER INTEGER, matching CRL entry normalisation', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    for (const [serial, expected] of [
      ['00ab', 'AB'],
      ['0102', '102'],
      ['ff01', 'FF01'],
    ]) {
      const cert = await x509.X509CertificateGenerator.createSelfSigned(
        { serialNumber: serial, name: [{ CN: ['s'] }], keys, signingAlgorithm: alg },
        webcrypto,
      );
      expect(certificateSerialNumber(new X509Certificate(Buffer.from(cert.rawData)))).toBe(expected);
      expect(normalizeSerialNumber(cert.serialNumber)).toBe(expected);
    }
  });
});
