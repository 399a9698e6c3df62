import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
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

/**
 * Creates `path` (and missing parents) with mode 0700, or checks the directory that is
 * there: it must be one this user owns and neither group nor others can write, since
 * whoever can write in it can swap the CA's files or read its private keys.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  ensurePrivateDirSync(path);
}

export function ensurePrivateDirSync(path: string): void {
  const dir = resolve(path);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && dirname(dir) !== dir) {
      ensurePrivateDirSync(dirname(dir));
      return ensurePrivateDirSync(dir);
    }
    if (code !== 'EEXIST') throw error;
    return checkPrivateDir(dir);
  }
  checkCreatedIn(dirname(dir), dir);
}

/**
 * A directory created in `parent` stays ours only if no one else can rename it away:
 * `parent` must be ours or root's, and not writable by others unless sticky (like /tmp).
 */
function checkCreatedIn(parent: string, dir: string): void {
  const stat = statSync(parent);
  const uid = process.getuid?.();
  const othersCanSwap = (stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0;
  if ((uid !== undefined && stat.uid !== uid && stat.uid !== 0) || othersCanSwap)
    throw new CertificateError(
      'CERT_CA_OPERATION_FAILED',
      `${dir} was created in ${parent}, which another user owns or can write (uid ${stat.uid}, mode ` +
        `${(stat.mode & 0o7777).toString(8)}): that user could replace the CA directory. ` +
        'Put the CA in a directory only you can write (e.g. under your home directory).',
    );
}

/** Refuses a directory another user owns or can write (see ensurePrivateDir). */
export function checkPrivateDir(dir: string): void {
  const stat = statSync(dir);
  const uid = process.getuid?.();
  const refuse = (why: string): never => {
    throw new CertificateError(
      'CERT_CA_OPERATION_FAILED',
      `${dir} ${why}: the CA keeps its private keys only in a directory this user (uid ${uid ?? '?'}) owns and no one else ` +
        `can write. Use a new directory (e.g. --dir ./my-ca, created 0700), or, if it is yours, chown it to you and chmod 700 ${dir}.`,
    );
  };
  // A link another user owns could be pointed elsewhere after this check.
  const link = lstatSync(dir);
  if (link.isSymbolicLink() && uid !== undefined && link.uid !== uid)
    refuse(`is a symbolic link owned by another user (uid ${link.uid})`);
  if (!stat.isDirectory()) refuse('is not a directory');
  if (uid !== undefined && stat.uid !== uid) refuse(`is owned by another user (uid ${stat.uid})`);
  if (stat.mode & 0o022)
    refuse(
      `can be written by ${stat.mode & 0o002 ? 'any user' : 'its group'} (mode ${(stat.mode & 0o777).toString(8)})`,
    );
}

/**
 * Writes through a temporary file and rename, so a proxy re-reading crl.pem
 * never sees half a file. The temporary name is random and created exclusively
 * (O_EXCL, O_NOFOLLOW) with its final mode, so nothing planted under it is
 * followed or written through, and a private key is never readable by others.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  writeFileAtomicSync(path, data, mode);
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode: number): void {
  const temporary = `${path}.${randomBytes(12).toString('hex')}.tmp`;
  const fd = openSync(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    // The umask may have taken bits off `mode` (0644 under umask 077): set it as asked.
    fchmodSync(fd, mode);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, path);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
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
