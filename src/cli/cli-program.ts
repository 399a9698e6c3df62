import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { createAuthHeader } from '../client/create-auth-header';
import type { KeyAlgorithm } from '../keys/key-algorithm';
import { generateKeyPair, parsePublicKey } from '../keys/key-formats';
import { addCertificateCommands } from './certificate-commands';
import { withRegistry } from './cli-context';
import { commaList, keyAlgorithmArgument } from './cli-arguments';
import { addRequestCommand } from './request-command';
import { addTokenCommands } from './token-commands';

const KEY_TYPES = ['ed25519', 'p256', 'p384', 'rsa'] as const;

function keyType(value: string): (typeof KEY_TYPES)[number] {
  if (!(KEY_TYPES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`one of ${KEY_TYPES.join(', ')}`);
  return value as (typeof KEY_TYPES)[number];
}

/** Output sink, so tests can run the CLI in-process. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: CliIo = {
  out: (l) => process.stdout.write(`${l}\n`),
  err: (l) => process.stderr.write(`${l}\n`),
};

/** The `keypair-auth` command line: keys, users, tokens. Uses DATABASE_URL like the demo server. */
export function buildCli(io: CliIo = consoleIo): Command {
  const program = new Command('keypair-auth')
    .description('Manage users and public keys for nestjs-keypair-auth, and make credentials.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('keygen')
    .description('Write NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM).')
    .option('--type <type>', `key type: ${KEY_TYPES.join(', ')}`, keyType, 'ed25519')
    .requiredOption('--out <name>', 'file name prefix')
    .action((opts: { type: (typeof KEY_TYPES)[number]; out: string }) => {
      const pair = generateKeyPair(opts.type);
      writeFileSync(`${opts.out}.key`, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
      chmodSync(`${opts.out}.key`, 0o600);
      writeFileSync(`${opts.out}.pub`, pair.publicKeyPem, { flag: 'wx' });
      io.err(`wrote ${opts.out}.key (private, keep it) and ${opts.out}.pub (register this one)`);
      io.out(parsePublicKey(pair.publicKeyPem).thumbprint);
    });

  const users = program.command('users').description('Manage users.');
  users
    .command('add <username>')
    .option('--roles <roles>', 'comma-separated roles', commaList, [])
    .action((username: string, opts: { roles: string[] }) =>
      withRegistry(async (_registry, directory) => {
        const user = await directory.create(username, opts.roles);
        io.out(JSON.stringify(user));
      }),
    );
  users.command('list').action(() =>
    withRegistry(async (_registry, directory) => {
      for (const user of await directory.list()) io.out(JSON.stringify(user));
    }),
  );
  users
    .command('set-active <username> <active>')
    .description('Activate (true) or deactivate (false) a user.')
    .action((username: string, active: string) =>
      withRegistry(async (_registry, directory) => {
        const user = await directory.findByUsername(username);
        if (!user) throw new Error(`no user ${JSON.stringify(username)}`);
        await directory.setActive(user.id, active === 'true');
      }),
    );

  const keys = program.command('keys').description('Manage public keys.');
  keys
    .command('add <username> <file>')
    .description('Register a public key (PEM, OpenSSH line or JWK file) and print its keyId.')
    .option('--roles <roles>', 'role subset for this key', commaList)
    .option('--label <label>', 'a name for the key')
    .option('--alg <algorithm>', 'pin an algorithm (RSA keys)', keyAlgorithmArgument)
    .option('--key-id <id>', 'keyId to use instead of the fingerprint')
    .option('--expires <iso>', 'expiry time (ISO 8601)')
    .action(
      (
        username: string,
        file: string,
        opts: { roles?: string[]; label?: string; alg?: KeyAlgorithm; keyId?: string; expires?: string },
      ) =>
        withRegistry(async (registry, directory) => {
          const user = await directory.findByUsername(username);
          if (!user) throw new Error(`no user ${JSON.stringify(username)}: add it with \`users add\``);
          const text = readFileSync(file, 'utf8');
          const input = text.trim().startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : text;
          const key = await registry.register(user, input, {
            roles: opts.roles,
            label: opts.label,
            algorithm: opts.alg,
            keyId: opts.keyId,
            expiresAt: opts.expires ? new Date(opts.expires) : null,
          });
          io.out(key.keyId);
        }),
    );
  keys.command('list <username>').action((username: string) =>
    withRegistry(async (registry, directory) => {
      const user = await directory.findByUsername(username);
      if (!user) throw new Error(`no user ${JSON.stringify(username)}`);
      for (const key of await registry.listKeys(user.id)) {
        const { publicKeyPem: _pem, ...rest } = key;
        io.out(JSON.stringify(rest));
      }
    }),
  );
  keys.command('revoke <keyId>').action((keyId: string) =>
    withRegistry(async (registry) => {
      const key = await registry.revoke(keyId);
      if (!key) throw new Error(`no key ${JSON.stringify(keyId)}`);
      io.out(`revoked ${key.keyId}`);
    }),
  );

  program
    .command('token')
    .description('Print an Authorization header value (JWT <token>) for the asymmetric-JWT strategy.')
    .requiredOption('--key <file>', 'private key file (PEM)')
    .requiredOption('--username <username>', 'the user the key belongs to')
    .option('--key-id <id>', 'keyId to send (default: SHA-256 of the public key PEM)')
    .option('--alg <algorithm>', 'algorithm the key was registered with (RSA keys)', keyAlgorithmArgument)
    .option('--password <password>', 'passphrase of an encrypted key')
    .action(
      async (opts: {
        key: string;
        username: string;
        keyId?: string;
        alg?: KeyAlgorithm;
        password?: string;
      }) => {
        io.out(
          await createAuthHeader({
            username: opts.username,
            keyFile: opts.key,
            keyPassword: opts.password,
            keyId: opts.keyId,
            algorithm: opts.alg,
          }),
        );
      },
    );

  addRequestCommand(program, io);
  addCertificateCommands(program, io);
  addTokenCommands(program, io);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function runCli(argv: string[], io: CliIo = consoleIo): Promise<number> {
  const program = buildCli(io);
  program.configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const e = error as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return e.exitCode ?? 1;
    io.err(`error: ${e.message ?? String(error)}`);
    return 1;
  }
}
