import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { KeyAlgorithm } from '../keys/key-algorithm';
import {
  commaList,
  existingFile,
  futureDateArgument,
  keyAlgorithmArgument,
  keyIdArgument,
  usernameArgument,
} from './cli-arguments';
import { addDatabaseOptions, DatabaseOptions, withRegistry } from './cli-database';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import { noSuchUser } from './user-commands';

interface KeyAddOptions extends DatabaseOptions {
  roles?: string[];
  label?: string;
  alg?: KeyAlgorithm;
  keyId?: string;
  expires?: Date;
}

/** A key file's content: PEM or OpenSSH text, or a JWK object. */
function readKeyFile(file: string): string | Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  if (!text.trim().startsWith('{')) return text;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CliError(`${file} starts with "{" but is not valid JSON: a JWK file holds one JSON object.`);
  }
}

/** `keys add | list | revoke`. */
export function addKeyCommands(program: Command, io: CliIo): void {
  const keys = program
    .command('keys')
    .description('Manage public keys (the database of --database or DATABASE_URL).');
  addDatabaseOptions(
    keys
      .command('add')
      .description('Register a public key (PEM, OpenSSH line or JWK file) for a user and print its keyId.')
      .argument('<username>', 'the user the key belongs to', usernameArgument)
      .argument(
        '<file>',
        'the public key file (NAME.pub from keygen)',
        existingFile('a public key (NAME.pub)'),
      )
      .option(
        '--roles <roles>',
        "role subset for this key, e.g. reader (default: all the user's roles)",
        commaList,
      )
      .option('--label <label>', 'a name for the key, e.g. laptop')
      .option('--alg <algorithm>', 'pin an algorithm (RSA keys)', keyAlgorithmArgument)
      .option(
        '--key-id <id>',
        'keyId to register the key under (default: the key fingerprint, which token, request and login send by default)',
        keyIdArgument,
      )
      .option(
        '--expires <iso>',
        'expiry, an ISO 8601 date or date-time in the future (e.g. 2030-01-31)',
        futureDateArgument,
      ),
  ).action((username: string, file: string, opts: KeyAddOptions) =>
    withRegistry(opts, io, async (registry, directory) => {
      const input = readKeyFile(file);
      const user = await directory.findByUsername(username);
      if (!user) throw noSuchUser(username);
      const key = await registry.register(user, input, {
        roles: opts.roles,
        label: opts.label,
        algorithm: opts.alg,
        keyId: opts.keyId,
        expiresAt: opts.expires ?? null,
      });
      io.out(key.keyId);
    }),
  );
  addDatabaseOptions(
    keys
      .command('list')
      .description("List a user's keys, one JSON object per line.")
      .argument('<username>', 'the user', usernameArgument),
  ).action((username: string, opts: DatabaseOptions) =>
    withRegistry(opts, io, async (registry, directory) => {
      const user = await directory.findByUsername(username);
      if (!user) throw noSuchUser(username);
      const all = await registry.listKeys(user.id);
      if (all.length === 0)
        io.err(`${username} has no keys: register one with \`keypair-auth keys add ${username} FILE\``);
      for (const key of all) {
        const { publicKeyPem: _pem, ...rest } = key;
        io.out(JSON.stringify(rest));
      }
    }),
  );
  addDatabaseOptions(
    keys
      .command('revoke')
      .description('Revoke a key by its keyId. A running server sees it within keyCache.ttlSeconds.')
      .argument('<keyId>', 'the keyId, as `keys add` or `keys list` prints it', keyIdArgument),
  ).action((keyId: string, opts: DatabaseOptions) =>
    withRegistry(opts, io, async (registry) => {
      const key = await registry.revoke(keyId);
      if (!key)
        throw new CliError(
          `no key ${JSON.stringify(keyId)} in this database: \`keypair-auth keys list USERNAME\` shows a user's keyIds.`,
        );
      io.out(`revoked ${key.keyId}`);
    }),
  );
}
