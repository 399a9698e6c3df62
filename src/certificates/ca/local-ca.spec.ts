import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { CrlRevocationList } from '../crl-revocation-list';
import { readSubjectAltNames } from '../certificate-identity';
import { caLayout, initCa, issueClientCert, issueServerCert, revoke } from '.';

function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('local CA', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpa-ca-'));
    await initCa(dir, { cn: 'Test' });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('creates root, intermediate, bundle and an empty CRL with private keys at 0600', async () => {
    const layout = caLayout(dir);
    expect(await mode(layout.rootKey)).toBe(0o600);
    expect(await mode(layout.intermediateKey)).toBe(0o600);
    expect(await mode(dir)).toBe(0o700);
    const root = new x509.X509Certificate(await readFile(layout.rootCert, 'utf8'));
    const intermediate = new x509.X509Certificate(await readFile(layout.intermediateCert, 'utf8'));
    expect(root.subject).toBe('CN=Test Root');
    expect(intermediate.subject).toBe('CN=Test Intermediate');
    expect(root.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(intermediate.getExtension(x509.BasicConstraintsExtension)).toMatchObject({
      ca: true,
      pathLength: 0,
    });
    expect((await readFile(layout.caBundle, 'utf8')).match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const crl = await CrlRevocationList.load(await readFile(layout.crl, 'utf8'), [
      new X509Certificate(intermediate.toString()),
    ]);
    expect(crl.revokedCount).toBe(0);
    await expect(initCa(dir)).rejects.toMatchObject({ code: 'CERT_CA_OPERATION_FAILED' });
  });

  it('issues a client certificate: clientAuth, digitalSignature, 16-byte positive serial, CN=name, 12 hours', async () => {
    const issued = await issueClientCert(dir, 'alice', { pkcs12: false });
    const cert = new x509.X509Certificate(issued.certPem);
    expect(cert.subject).toBe('CN=alice');
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    expect(cert.getExtension(x509.KeyUsagesExtension)).toMatchObject({
      usages: x509.KeyUsageFlags.digitalSignature,
      critical: true,
    });
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    const serial = Buffer.from(cert.serialNumber, 'hex');
    expect(serial).toHaveLength(16);
    expect(serial[0]).toBeGreaterThan(0);
    expect(serial[0]).toBeLessThan(0x80);
    expect(issued.serialNumber).toBe(cert.serialNumber.toUpperCase().replace(/^0+/, ''));
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeCloseTo(12 * 3_600_000 + 60_000, -4);
    expect(await mode(issued.files.key)).toBe(0o600);
    expect(await readFile(issued.files.fullChain, 'utf8')).toBe(issued.certPem + issued.chainPem);
    // The key belongs to the certificate.
    const signature = sign('sha256', Buffer.from('x'), createPrivateKey(issued.keyPem));
    expect(verify('sha256', Buffer.from('x'), issued.certificate.publicKey, signature)).toBe(true);
  });

  it('refuses to overwrite or to use an unsafe name', async () => {
    await issueClientCert(dir, 'carol', { pkcs12: false });
    await expect(issueClientCert(dir, 'carol', { pkcs12: false })).rejects.toMatchObject({
      code: 'CERT_CA_OPERATION_FAILED',
    });
    await expect(issueClientCert(dir, 'carol', { pkcs12: false, overwrite: true })).resolves.toBeDefined();
    for (const name of ['../evil', '.hidden', 'a/b', '', 'x'.repeat(65)]) {
      await expect(issueClientCert(dir, name, { pkcs12: false })).rejects.toMatchObject({
        code: 'CERT_CONFIG_INVALID',
      });
    }
  });

  it('reports a missing openssl binary instead of failing', async () => {
    const issued = await issueClientCert(dir, 'no-openssl', {
      pkcs12: { opensslPath: '/nonexistent/openssl' },
    });
    expect(issued.pkcs12).toMatchObject({ written: false, reason: expect.stringContaining('not found') });
  });

  // Skipped only where no openssl binary is installed (.ci/run installs it): it reads the PKCS#12 back.
  (opensslAvailable() ? it : it.skip)('exports PKCS#12 with an empty or a given passphrase', async () => {
    const plain = await issueClientCert(dir, 'p12-plain');
    expect(plain.pkcs12).toEqual({ written: true, path: plain.files.p12 });
    expect(await mode(plain.files.p12)).toBe(0o600);
    const dump = execFileSync('openssl', [
      'pkcs12',
      '-in',
      plain.files.p12,
      '-passin',
      'pass:',
      '-nokeys',
    ]).toString();
    expect(dump).toContain('subject=CN = p12-plain');

    const secret = await issueClientCert(dir, 'p12-secret', { pkcs12: { passphrase: 'correct horse' } });
    expect(secret.pkcs12?.written).toBe(true);
    expect(() =>
      execFileSync('openssl', ['pkcs12', '-in', secret.files.p12, '-passin', 'pass:wrong', '-nokeys'], {
        stdio: 'pipe',
      }),
    ).toThrow();
    expect(
      execFileSync('openssl', [
        'pkcs12',
        '-in',
        secret.files.p12,
        '-passin',
        'pass:correct horse',
        '-nokeys',
      ]).toString(),
    ).toContain('BEGIN CERTIFICATE');
  });

  it('issues a server certificate with SAN DNS and 127.0.0.1', async () => {
    const server = await issueServerCert(dir, 'localhost');
    expect(readSubjectAltNames(server.certificate)).toMatchObject({ dns: ['localhost'], ip: ['127.0.0.1'] });
    const byIp = await issueServerCert(dir, '127.0.0.1');
    expect(readSubjectAltNames(byIp.certificate)).toMatchObject({ dns: [], ip: ['127.0.0.1'] });
    await expect(issueServerCert(dir, 'bad host')).rejects.toMatchObject({ code: 'CERT_CONFIG_INVALID' });
  });

  it('revokes: records the serial once, increments the CRL number, sets nextUpdate', async () => {
    const bob = await issueClientCert(dir, 'bob', { pkcs12: false });
    const now = new Date();
    const first = await revoke(dir, bob.serialNumber.toLowerCase(), { now });
    const second = await revoke(dir, `00${bob.serialNumber}`, { now });
    expect(second.revokedSerials.filter((serial) => serial === bob.serialNumber)).toHaveLength(1);
    expect(second.crlNumber).toBe(first.crlNumber + 1);
    const crl = new x509.X509Crl(second.crlPem);
    expect(crl.nextUpdate?.getTime()).toBe(Math.floor((now.getTime() + 168 * 3_600_000) / 1000) * 1000);
    expect(crl.getExtension('2.5.29.20')).not.toBeNull();
    const state = JSON.parse(await readFile(caLayout(dir).revocations, 'utf8')) as {
      revoked: { serial: string }[];
    };
    expect(state.revoked.map((entry) => entry.serial)).toContain(bob.serialNumber);
    await expect(revoke(dir, 'not-hex')).rejects.toMatchObject({ code: 'CERT_CONFIG_INVALID' });
  });
});
