import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { CertificateError } from '../certificate-error';

export interface Pkcs12Options {
  /** Export passphrase; default empty (most browsers and curl accept it, macOS Keychain may not). */
  readonly passphrase?: string;
  /**
   * OpenSSL 3 `-legacy`: RC2/3DES + SHA-1 MAC instead of AES-256 + PBKDF2, for
   * old Windows/macOS/Java importers. Needs OpenSSL's legacy provider.
   */
  readonly legacy?: boolean;
  /** Path or name of the openssl binary. Default "openssl" from PATH. */
  readonly opensslPath?: string;
}

export type Pkcs12Result =
  { readonly written: true; readonly path: string } | { readonly written: false; readonly reason: string };

interface Pkcs12Inputs {
  readonly certPath: string;
  readonly keyPath: string;
  readonly chainPath: string;
  readonly outPath: string;
  readonly friendlyName: string;
}

/**
 * Writes a PKCS#12 bundle with the openssl CLI. Neither Node nor
 * @peculiar/x509 can write PKCS#12, and hand-assembling PFX/MAC/PBES2 is not
 * worth owning. Runs without a shell; the passphrase goes through the
 * environment (visible to the same user only), not argv (visible to everyone
 * via ps). A missing binary is reported as `written: false`, not an error,
 * because cert.pem and key.pem are enough for most clients.
 */
export async function exportPkcs12(inputs: Pkcs12Inputs, options: Pkcs12Options = {}): Promise<Pkcs12Result> {
  const binary = options.opensslPath ?? 'openssl';
  // The bundle holds the private key: openssl writes it into a file we created exclusively,
  // 0600, under a random name (never through a link planted at outPath), renamed into place.
  const tempPath = `${inputs.outPath}.${randomBytes(8).toString('hex')}.tmp`;
  const handle = await open(
    tempPath,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  await handle.close();
  const args = [
    'pkcs12',
    '-export',
    '-in',
    inputs.certPath,
    '-inkey',
    inputs.keyPath,
    '-certfile',
    inputs.chainPath,
    '-name',
    inputs.friendlyName,
    '-out',
    tempPath,
    '-passout',
    'env:KPA_PKCS12_PASSPHRASE',
    ...(options.legacy === true ? ['-legacy'] : []),
  ];
  const env = { ...process.env, KPA_PKCS12_PASSPHRASE: options.passphrase ?? '' };
  return new Promise((resolve, reject) => {
    execFile(binary, args, { env, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error === null) {
        rename(tempPath, inputs.outPath).then(
          () => resolve({ written: true, path: inputs.outPath }),
          (renameError: unknown) =>
            reject(
              new CertificateError('CERT_CA_OPERATION_FAILED', 'cannot move the PKCS#12 file into place', {
                cause: renameError,
              }),
            ),
        );
        return;
      }
      void unlink(tempPath).catch(() => undefined);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({
          written: false,
          reason: `"${binary}" was not found: PKCS#12 bundle skipped (cert.pem, key.pem and chain.pem were written)`,
        });
        return;
      }
      const detail = String(stderr).trim().split('\n').slice(0, 3).join(' | ');
      reject(
        new CertificateError('CERT_CA_OPERATION_FAILED', `openssl pkcs12 failed: ${detail}`, {
          cause: error,
        }),
      );
    });
  });
}
