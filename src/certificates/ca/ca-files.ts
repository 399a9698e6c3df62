import { access, chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateError } from '../certificate-error';

/**
 * On-disk layout of the local CA. Private keys are PKCS#8 PEM with mode 0600,
 * directories 0700; certificates and the CRL are world-readable so a proxy
 * running as another user can load them.
 */
export interface CaLayout {
  readonly dir: string;
  readonly rootKey: string;
  readonly rootCert: string;
  readonly intermediateKey: string;
  readonly intermediateCert: string;
  /** Intermediate + root: what a proxy needs to verify client certificates (nginx ssl_client_certificate). */
  readonly caBundle: string;
  readonly crl: string;
  /** Revocation state: { crlNumber, revoked: [{ serial, revokedAt }] }. */
  readonly revocations: string;
}

export function caLayout(dir: string): CaLayout {
  return {
    dir,
    rootKey: join(dir, 'root.key.pem'),
    rootCert: join(dir, 'root.cert.pem'),
    intermediateKey: join(dir, 'intermediate.key.pem'),
    intermediateCert: join(dir, 'intermediate.cert.pem'),
    caBundle: join(dir, 'ca-bundle.pem'),
    crl: join(dir, 'crl.pem'),
    revocations: join(dir, 'revoked.json'),
  };
}

export interface IssuedFiles {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  /** Issuing intermediate only (what a client sends after its own certificate). */
  readonly chain: string;
  /** Leaf followed by the intermediate (curl --cert, nginx ssl_certificate). */
  readonly fullChain: string;
  readonly p12: string;
}

export function issuedFiles(dir: string, kind: 'clients' | 'servers', name: string): IssuedFiles {
  const base = join(dir, kind, name);
  return {
    dir: base,
    cert: join(base, 'cert.pem'),
    key: join(base, 'key.pem'),
    chain: join(base, 'chain.pem'),
    fullChain: join(base, 'fullchain.pem'),
    p12: join(base, `${name}.p12`),
  };
}

export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
}

/**
 * Writes through a temporary file and rename, so a proxy re-reading crl.pem
 * never sees half a file; the mode is set explicitly because `mode` in
 * writeFile only applies when the file is created.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data, { mode });
  await chmod(temporary, mode);
  await rename(temporary, path);
}

export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CertificateError('CERT_CA_OPERATION_FAILED', `cannot read ${what} (${path})`, { cause: error });
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
