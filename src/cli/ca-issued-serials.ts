import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../certificates/ca/ca-files';
import { certificateSerialNumber, normalizeSerialNumber } from '../certificates/serial-number';

/**
 * The serial numbers a local CA issued, so that `ca revoke` can refuse a mistyped one
 * (a CRL entry for a serial nobody holds revokes nothing, and the certificate the user
 * meant stays valid). `ca issue` and `ca server` record each serial in issued.json in
 * the CA directory; the certificates still in clients/ and servers/ count too, for a CA
 * made before that file existed.
 */
export interface IssuedSerial {
  readonly serial: string;
  readonly name: string;
  readonly kind: 'client' | 'server';
  readonly notAfter: string;
}

function indexFile(dir: string): string {
  return join(dir, 'issued.json');
}

function readIndex(dir: string): IssuedSerial[] {
  try {
    const parsed = JSON.parse(readFileSync(indexFile(dir), 'utf8')) as { issued?: IssuedSerial[] };
    return Array.isArray(parsed.issued) ? parsed.issued : [];
  } catch {
    return [];
  }
}

/** Adds one issued certificate to issued.json. */
export function recordIssuedSerial(dir: string, entry: IssuedSerial): void {
  const issued = [...readIndex(dir), { ...entry, serial: normalizeSerialNumber(entry.serial) }];
  writeFileAtomicSync(indexFile(dir), `${JSON.stringify({ issued }, null, 2)}\n`, 0o644);
}

/** The serials of the certificates under clients/ and servers/ (cert.pem of each name). */
function serialsOnDisk(dir: string): string[] {
  const serials: string[] = [];
  for (const kind of ['clients', 'servers']) {
    let names: string[];
    try {
      names = readdirSync(join(dir, kind));
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        serials.push(
          certificateSerialNumber(new X509Certificate(readFileSync(join(dir, kind, name, 'cert.pem')))),
        );
      } catch {
        // not a certificate directory
      }
    }
  }
  return serials;
}

/** Whether the CA in `dir` issued `serial` (any hex form `ca issue` or openssl prints). */
export function caIssuedSerial(dir: string, serial: string): boolean {
  const wanted = normalizeSerialNumber(serial);
  return readIndex(dir).some((e) => e.serial === wanted) || serialsOnDisk(dir).includes(wanted);
}
