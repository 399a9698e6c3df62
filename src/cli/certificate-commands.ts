import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { caLayout, issuedFiles } from '../certificates/ca/ca-files';
import {
  commaList,
  dnsNameArgument,
  emailArgument,
  existingFile,
  fingerprintArgument,
  hoursArgument,
  serialArgument,
  uriArgument,
  usernameArgument,
} from './cli-arguments';
import { caIssuedSerial, recordIssuedSerial } from './ca-issued-serials';
import { addDatabaseOptions, DatabaseOptions, withCertificates } from './cli-database';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import { requireOpensslForP12 } from './openssl-check';
import { noSuchUser } from './user-commands';

/** Where `ca` commands keep the CA unless --dir says otherwise. */
export const DEFAULT_CA_DIR = './keypair-auth-ca';

function certificateName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(value))
    throw new InvalidArgumentError(
      'Write a name of 1-64 letters, digits and . _ @ - (e.g. alice); it becomes CN=NAME.',
    );
  return value;
}

function hostArgument(value: string): string {
  if (
    isIP(value) === 0 &&
    !/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/.test(value)
  )
    throw new InvalidArgumentError('Write a DNS name or an IP address, e.g. api.example.com or 127.0.0.1.');
  return value;
}

/** The CA in `dir`, or an error saying how to create one. Loads the CA code (and @peculiar/x509) lazily. */
async function existingCa(dir: string): Promise<typeof import('../certificates/ca')> {
  if (!existsSync(caLayout(dir).intermediateKey))
    throw new CliError(
      `there is no CA in ${dir}: create one with \`keypair-auth ca init --dir ${dir}\`, or point --dir (or KEYPAIR_AUTH_CA_DIR) at yours.`,
    );
  return import('../certificates/ca');
}

function refuseOverwrite(file: string, what: string, overwrite: boolean | undefined): void {
  if (!overwrite && existsSync(file))
    throw new CliError(
      `${what} already exists (${file}): pass --overwrite to replace it, or choose another name.`,
    );
}

/**
 * Adds `certs` (client certificates registered by fingerprint) and `ca` (a small
 * local CA for short-lived certificates) to the `keypair-auth` command line.
 */
export function addCertificateCommands(program: Command, io: CliIo): void {
  const certs = program
    .command('certs')
    .description(
      'Manage client certificates registered by fingerprint (the database of --database or DATABASE_URL).',
    );
  addDatabaseOptions(
    certs
      .command('add')
      .description('Register a client certificate (PEM) for a user and print its SHA-256 fingerprint.')
      .argument('<username>', 'the user the certificate belongs to', usernameArgument)
      .argument(
        '<file>',
        'the certificate (PEM), e.g. cert.pem from `ca issue`',
        existingFile('a certificate (PEM)'),
      )
      .option('--roles <roles>', 'role subset for this certificate, e.g. reader', commaList)
      .option('--label <label>', 'a name for the certificate'),
  ).action((username: string, file: string, opts: DatabaseOptions & { roles?: string[]; label?: string }) =>
    withCertificates(opts, io, async (certificates, users) => {
      const user = await users.findByUsername(username);
      if (!user) throw noSuchUser(username);
      const view = await certificates.register(user, readFileSync(file, 'utf8'), {
        roles: opts.roles,
        label: opts.label,
      });
      io.out(view.fingerprint);
    }),
  );
  addDatabaseOptions(
    certs
      .command('list')
      .description("List a user's certificates, one JSON object per line.")
      .argument('<username>', 'the user', usernameArgument),
  ).action((username: string, opts: DatabaseOptions) =>
    withCertificates(opts, io, async (certificates, users) => {
      const user = await users.findByUsername(username);
      if (!user) throw noSuchUser(username);
      const all = await certificates.list(user.id);
      if (all.length === 0)
        io.err(
          `${username} has no certificates: register one with \`keypair-auth certs add ${username} FILE\``,
        );
      for (const view of all) {
        const { certificatePem: _pem, ...rest } = view;
        io.out(JSON.stringify(rest));
      }
    }),
  );
  addDatabaseOptions(
    certs
      .command('revoke')
      .description('Revoke a registered certificate. A running server sees it within keyCache.ttlSeconds.')
      .argument('<fingerprint>', 'its SHA-256 in hex (64 digits, colons allowed)', fingerprintArgument),
  ).action((fingerprint: string, opts: DatabaseOptions) =>
    withCertificates(opts, io, async (certificates) => {
      const view = await certificates.revoke(fingerprint);
      if (!view)
        throw new CliError(
          `no certificate ${fingerprint} in this database: \`keypair-auth certs list USERNAME\` shows the fingerprints.`,
        );
      io.out(`revoked ${view.fingerprint}`);
    }),
  );

  const ca = program
    .command('ca')
    .description('A small local CA (root, intermediate, CRL) for short-lived client certificates.');
  const dirOption = () =>
    new Option('--dir <dir>', 'CA directory').default(
      process.env.KEYPAIR_AUTH_CA_DIR ?? DEFAULT_CA_DIR,
      `$KEYPAIR_AUTH_CA_DIR, else ${DEFAULT_CA_DIR}`,
    );
  ca.command('init')
    .description('Create a root and an intermediate CA, the CA bundle and an empty CRL.')
    .addOption(dirOption())
    .option('--cn <name>', 'prefix of the CA common names')
    .action(async (opts: { dir: string; cn?: string }) => {
      if (existsSync(caLayout(opts.dir).rootKey))
        throw new CliError(`a CA already exists in ${opts.dir}: use it as it is, or choose another --dir.`);
      const { initCa } = await import('../certificates/ca');
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
  ca.command('issue')
    .description(
      'Issue a client certificate (clientAuth) with CN=<name>; writes cert, key, chain and, with openssl, a .p12.',
    )
    .argument('<name>', 'the common name, e.g. alice', certificateName)
    .addOption(dirOption())
    .option('--hours <hours>', 'lifetime in hours', hoursArgument, 12)
    .option('--email <address>', 'add an email SAN (repeatable)', emailArgument)
    .option('--dns <name>', 'add a DNS SAN (repeatable)', dnsNameArgument)
    .option('--uri <uri>', 'add a URI SAN (repeatable)', uriArgument)
    .option('--no-p12', 'do not write a PKCS#12 file')
    .option('--overwrite', 'replace a certificate of the same name')
    .action(
      async (
        name: string,
        opts: {
          dir: string;
          hours: number;
          email?: string[];
          dns?: string[];
          uri?: string[];
          p12: boolean;
          overwrite?: boolean;
        },
      ) => {
        const { issueClientCert } = await existingCa(opts.dir);
        refuseOverwrite(
          issuedFiles(opts.dir, 'clients', name).cert,
          `a certificate named ${name}`,
          opts.overwrite,
        );
        if (opts.p12) requireOpensslForP12();
        const issued = await issueClientCert(opts.dir, name, {
          hours: opts.hours,
          subjectAltNames: { email: opts.email, dns: opts.dns, uri: opts.uri },
          pkcs12: opts.p12 ? undefined : false,
          overwrite: opts.overwrite,
        });
        recordIssuedSerial(opts.dir, {
          serial: issued.serialNumber,
          name,
          kind: 'client',
          notAfter: issued.certificate.validTo,
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
        if (opts.p12 && issued.pkcs12 && !issued.pkcs12.written) {
          io.err(
            `error: ${issued.pkcs12.reason}; install openssl and run again with --overwrite, or pass --no-p12.`,
          );
          process.exitCode = 1;
        }
      },
    );
  ca.command('server')
    .description('Issue a TLS server certificate (serverAuth) for a DNS name or IP address.')
    .argument('<host>', 'DNS name or IP address, e.g. 127.0.0.1', hostArgument)
    .addOption(dirOption())
    .option('--hours <hours>', 'lifetime in hours (default 90 days)', hoursArgument)
    .option('--overwrite', 'replace a certificate for the same host')
    .action(async (host: string, opts: { dir: string; hours?: number; overwrite?: boolean }) => {
      const { issueServerCert } = await existingCa(opts.dir);
      refuseOverwrite(
        issuedFiles(opts.dir, 'servers', host.replace(/:/g, '_')).cert,
        `a server certificate for ${host}`,
        opts.overwrite,
      );
      const issued = await issueServerCert(opts.dir, host, { hours: opts.hours, overwrite: opts.overwrite });
      recordIssuedSerial(opts.dir, {
        serial: issued.serialNumber,
        name: host,
        kind: 'server',
        notAfter: issued.certificate.validTo,
      });
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
  ca.command('revoke')
    .description(
      'Add a serial number to the CRL and re-sign it; point crlFile (and nginx ssl_crl) at the CRL.',
    )
    .argument('<serial>', 'the serial number in hex, as `ca issue` prints it', serialArgument)
    .addOption(dirOption())
    .option(
      '--force',
      'revoke a serial this CA has no record of (a certificate issued with its keys by other means than this CLI)',
    )
    .action(async (serial: string, opts: { dir: string; force?: boolean }) => {
      const { revoke } = await existingCa(opts.dir);
      if (!opts.force && !caIssuedSerial(opts.dir, serial))
        throw new CliError(
          `no certificate with serial ${serial} was issued by the CA in ${opts.dir}: check the serialNumber ` +
            '`ca issue` printed (or `openssl x509 -noout -serial -in cert.pem`). ' +
            'If this CA signed it by other means, pass --force.',
        );
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
