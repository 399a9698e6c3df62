import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { DataSource } from 'typeorm';
import { caLayout, initCa, issueClientCert, issueServerCert, revoke } from '../certificates/ca';
import {
  CertificateRegistry,
  normalizeCertificateFingerprint,
} from '../certificate-strategy/certificate-registry';
import { dataSourceOptionsFromUrl } from '../database/keypair-auth-data-source';
import { TypeOrmUserDirectory } from '../keys/typeorm-user-directory';
import type { CliIo } from './cli-program';
import { commaList } from './cli-arguments';

/** Where `ca` commands keep the CA unless --dir says otherwise. */
export const DEFAULT_CA_DIR = './keypair-auth-ca';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function hours(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 24 * 366 * 10)
    throw new InvalidArgumentError('a positive number of hours');
  return n;
}

/** Opens the same database as the demo server and `keys` commands (DATABASE_URL), migrated. */
async function withCertificates<T>(
  fn: (certificates: CertificateRegistry, users: TypeOrmUserDirectory) => Promise<T>,
): Promise<T> {
  const dataSource = new DataSource(dataSourceOptionsFromUrl(process.env.DATABASE_URL));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
    const certificates = new CertificateRegistry(dataSource, {
      cacheMax: 10,
      cacheTtlMs: 1,
      negativeTtlMs: 1,
    });
    return await fn(certificates, new TypeOrmUserDirectory(dataSource));
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Adds `certs` (client certificates registered by fingerprint) and `ca` (a small
 * local CA for short-lived certificates) to the `keypair-auth` command line.
 */
export function addCertificateCommands(program: Command, io: CliIo): void {
  const certs = program.command('certs').description('Manage client certificates registered by fingerprint.');
  certs
    .command('add <username> <file>')
    .description('Register a client certificate (PEM) for a user and print its SHA-256 fingerprint.')
    .option('--roles <roles>', 'role subset for this certificate', commaList)
    .option('--label <label>', 'a name for the certificate')
    .action((username: string, file: string, opts: { roles?: string[]; label?: string }) =>
      withCertificates(async (certificates, users) => {
        const user = await users.findByUsername(username);
        if (!user) throw new Error(`no user ${JSON.stringify(username)}: add it with \`users add\``);
        const view = await certificates.register(user, readFileSync(file, 'utf8'), {
          roles: opts.roles,
          label: opts.label,
        });
        io.out(view.fingerprint);
      }),
    );
  certs
    .command('list <username>')
    .description("List a user's certificates, one JSON object per line.")
    .action((username: string) =>
      withCertificates(async (certificates, users) => {
        const user = await users.findByUsername(username);
        if (!user) throw new Error(`no user ${JSON.stringify(username)}`);
        for (const view of await certificates.list(user.id)) {
          const { certificatePem: _pem, ...rest } = view;
          io.out(JSON.stringify(rest));
        }
      }),
    );
  certs
    .command('revoke <fingerprint>')
    .description(
      'Revoke a registered certificate (hex SHA-256, colons allowed). A running server sees it within keyCache.ttlSeconds.',
    )
    .action((fingerprint: string) =>
      withCertificates(async (certificates) => {
        const normalized = normalizeCertificateFingerprint(fingerprint);
        if (normalized === null) throw new Error('the fingerprint must be a SHA-256 in hex (64 digits)');
        const view = await certificates.revoke(normalized);
        if (!view) throw new Error(`no certificate ${normalized}`);
        io.out(`revoked ${view.fingerprint}`);
      }),
    );

  const ca = program
    .command('ca')
    .description('A small local CA (root, intermediate, CRL) for short-lived client certificates.');
  const dirOption = [
    '--dir <dir>',
    'CA directory',
    process.env.KEYPAIR_AUTH_CA_DIR ?? DEFAULT_CA_DIR,
  ] as const;
  ca.command('init')
    .description('Create a root and an intermediate CA, the CA bundle and an empty CRL.')
    .option(...dirOption)
    .option('--cn <name>', 'prefix of the CA common names')
    .action(async (opts: { dir: string; cn?: string }) => {
      const result = await initCa(opts.dir, { cn: opts.cn });
      io.err(`CA created in ${opts.dir}; keep *.key.pem private`);
      io.out(
        JSON.stringify({
          caBundle: result.layout.caBundle,
          crl: result.layout.crl,
          root: result.layout.rootCert,
        }),
      );
    });
  ca.command('issue <name>')
    .description(
      'Issue a client certificate (clientAuth) with CN=<name>; writes cert, key, chain and, with openssl, a .p12.',
    )
    .option(...dirOption)
    .option('--hours <hours>', 'lifetime in hours', hours, 12)
    .option('--email <address>', 'add an email SAN (repeatable)', collect)
    .option('--dns <name>', 'add a DNS SAN (repeatable)', collect)
    .option('--uri <uri>', 'add a URI SAN (repeatable)', collect)
    .option('--no-p12', 'do not write a PKCS#12 file')
    .action(
      async (
        name: string,
        opts: { dir: string; hours: number; email?: string[]; dns?: string[]; uri?: string[]; p12: boolean },
      ) => {
        const issued = await issueClientCert(opts.dir, name, {
          hours: opts.hours,
          subjectAltNames: { email: opts.email, dns: opts.dns, uri: opts.uri },
          pkcs12: opts.p12 ? undefined : false,
        });
        io.out(
          JSON.stringify({
            fingerprint: issued.fingerprints.sha256Hex,
            serialNumber: issued.serialNumber,
            notAfter: issued.certificate.validTo,
            cert: issued.files.cert,
            key: issued.files.key,
            fullChain: issued.files.fullChain,
            p12: issued.pkcs12?.written ? issued.pkcs12.path : null,
          }),
        );
      },
    );
  ca.command('server <host>')
    .description('Issue a TLS server certificate (serverAuth) for a DNS name or IP address.')
    .option(...dirOption)
    .option('--hours <hours>', 'lifetime in hours (default 90 days)', hours)
    .action(async (host: string, opts: { dir: string; hours?: number }) => {
      const issued = await issueServerCert(opts.dir, host, { hours: opts.hours });
      io.out(
        JSON.stringify({
          fingerprint: issued.fingerprints.sha256Hex,
          serialNumber: issued.serialNumber,
          cert: issued.files.cert,
          key: issued.files.key,
          fullChain: issued.files.fullChain,
        }),
      );
    });
  ca.command('revoke <serial>')
    .description(
      'Add a serial number (hex) to the CRL and re-sign it; point crlFile (and nginx ssl_crl) at the CRL.',
    )
    .option(...dirOption)
    .action(async (serial: string, opts: { dir: string }) => {
      const result = await revoke(opts.dir, serial);
      io.out(
        JSON.stringify({
          crl: caLayout(opts.dir).crl,
          crlNumber: result.crlNumber,
          revoked: result.revokedSerials,
        }),
      );
    });
}
