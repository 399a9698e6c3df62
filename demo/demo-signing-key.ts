import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DatabaseLocation, DEFAULT_DATABASE_URL, parseDatabaseUrl } from '../src/database/database-url';
import { generateKeyPair } from '../src/keys/formats/key-generation';
import { jwkThumbprint } from '../src/keys/formats/jwk-public-key';
import { loadPrivateKey, publicKeyFromPrivate } from '../src/keys/formats/private-key-loader';
import { type PublicJwkMembers } from '../src/keys/formats/public-key.types';

/** The demo server's signing key: it signs responses and access tokens, and is published in the JWKS. */
export interface DemoSigningKey {
  keyId: string;
  privateKey: string;
  /** The file it was read from. */
  file: string;
  /** 'created': a development key written just now; 'reused': a development key from an earlier start; 'supplied': SERVER_KEY_FILE. */
  origin: 'created' | 'reused' | 'supplied';
}

/** The demo cannot get a signing key: the message says what to set. */
export class DemoSigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoSigningKeyError';
  }
}

export const DEV_KEY_FILE_NAME = 'demo-server-signing.key';

/**
 * Where the development key lives: next to the SQLite file of the database (so the
 * default is `./data/demo-server-signing.key`), and in `./data` for PostgreSQL or an
 * in-memory database. Takes the parsed DATABASE_URL, so `SQLITE:/x/db.sqlite` puts the
 * key in /x like `sqlite:/x/db.sqlite`, and a refused URL never gets this far.
 */
export function devSigningKeyPath(
  database: DatabaseLocation = parseDatabaseUrl(DEFAULT_DATABASE_URL),
): string {
  if (database.kind === 'sqlite') return join(dirname(resolve(database.path)), DEV_KEY_FILE_NAME);
  return resolve('data', DEV_KEY_FILE_NAME);
}

/**
 * The server keyring's key for the demo (`database`: the checked DATABASE_URL). `SERVER_KEY_FILE` (a private key PEM) wins;
 * otherwise a development Ed25519 key is created on first start (mode 0600) and reused
 * after, but never under NODE_ENV=production, where the operator supplies the key.
 */
export function demoSigningKey(env: NodeJS.ProcessEnv, database: DatabaseLocation): DemoSigningKey {
  const supplied = env.SERVER_KEY_FILE;
  if (supplied) {
    const file = resolve(supplied);
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new DemoSigningKeyError(
        `SERVER_KEY_FILE ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}). ` +
          'Point it at a private key PEM, e.g. one written by `keypair-auth keygen --type ed25519 --out server`.',
      );
    }
    return { keyId: env.SERVER_KEY_ID || keyIdFor(pem), privateKey: pem, file, origin: 'supplied' };
  }
  const file = devSigningKeyPath(database);
  if (env.NODE_ENV?.trim().toLowerCase() === 'production') {
    throw new DemoSigningKeyError(
      'NODE_ENV=production and no SERVER_KEY_FILE: the demo creates a development signing key only outside production. ' +
        'Set SERVER_KEY_FILE to your server key (a private key PEM, e.g. from `keypair-auth keygen --type ed25519 --out server`) ' +
        'and, optionally, SERVER_KEY_ID to the keyId it is published under.',
    );
  }
  const created = createOnce(file);
  const pem = readOwnKeyFile(file);
  return {
    keyId: env.SERVER_KEY_ID || keyIdFor(pem),
    privateKey: pem,
    file,
    origin: created ? 'created' : 'reused',
  };
}

/** True when this process wrote the file; false when it existed (perhaps written by a sibling instance just now). */
function createOnce(file: string): boolean {
  try {
    lstatSync(file); // whatever is there is checked when it is read
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  // Written whole under a temporary name, then linked into place: a second instance
  // starting at the same moment either wins the link or reads the winner's key.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, generateKeyPair('ed25519').privateKeyPem, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function refuse(file: string, why: string): never {
  throw new DemoSigningKeyError(
    `${file} ${why}: the demo uses a development key only from a regular file that this user (uid ${process.getuid?.() ?? '?'}) ` +
      'owns and no one else can write, since whoever wrote it can sign access tokens for any user. ' +
      `Delete it (the demo then creates a new key), move DATABASE_URL to a directory only you can write, or set SERVER_KEY_FILE to your own key.`,
  );
}

/**
 * Reads the development key without following a symbolic link, and only from a regular
 * file this user owns that neither group nor others can write: in a shared directory
 * (e.g. /tmp) another local user could have planted a key of their own, which the demo
 * would publish and sign tokens with. A key of ours that others can read is made 0600.
 */
function readOwnKeyFile(file: string): string {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted under the key's name must not hang the start.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') refuse(file, 'is a symbolic link');
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) refuse(file, 'is not a regular file');
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) refuse(file, `is owned by another user (uid ${stat.uid})`);
    if (stat.mode & 0o022)
      refuse(
        file,
        `can be written by ${stat.mode & 0o002 ? 'any user' : 'its group'} (mode ${(stat.mode & 0o777).toString(8)})`,
      );
    if (stat.mode & 0o077) fchmodSync(fd, 0o600);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** `server-` and the start of the key's RFC 7638 thumbprint: stable for one key, new for a new one. */
function keyIdFor(pem: string): string {
  const jwk = publicKeyFromPrivate(loadPrivateKey(pem)).export({ format: 'jwk' }) as PublicJwkMembers;
  return `server-${jwkThumbprint(jwk).slice(0, 16)}`;
}
