import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { generateKeyPair } from '../keys/formats/key-generation';
import { parsePublicKey } from '../keys/formats/public-key-parser';
import { KEY_TYPES, KeyType, keyTypeArgument } from './cli-arguments';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';

/** `keygen --type T --out NAME`: a new key pair in NAME.key and NAME.pub. */
export function addKeygenCommand(program: Command, io: CliIo): void {
  program
    .command('keygen')
    .description(
      'Write a new key pair: NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM); print the fingerprint.',
    )
    .option('--type <type>', `key type: ${KEY_TYPES.join(', ')}`, keyTypeArgument, 'ed25519')
    .requiredOption(
      '--out <name>',
      'file name prefix: writes NAME.key and NAME.pub, never over existing files',
    )
    .action((opts: { type: KeyType; out: string }) => {
      if (opts.out.trim() === '' || /[/\\]$/.test(opts.out) || /^\.+$/.test(basename(opts.out)))
        throw new CliError(
          `--out ${JSON.stringify(opts.out)} has no NAME part: give a file name prefix, e.g. --out alice or --out keys/alice ` +
            '(writes alice.key and alice.pub).',
        );
      const [keyFile, pubFile] = [`${opts.out}.key`, `${opts.out}.pub`];
      const dir = dirname(keyFile);
      if (!existsSync(dir) || !statSync(dir).isDirectory())
        throw new CliError(`there is no directory ${dir}: create it first, or choose another --out.`);
      for (const file of [keyFile, pubFile])
        if (existsSync(file))
          throw new CliError(
            `${file} already exists: choose another --out name (keygen never overwrites a key).`,
          );
      const pair = generateKeyPair(opts.type);
      writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
      chmodSync(keyFile, 0o600);
      writeFileSync(pubFile, pair.publicKeyPem, { flag: 'wx' });
      io.err(`wrote ${keyFile} (private, keep it) and ${pubFile} (register this one)`);
      io.out(parsePublicKey(pair.publicKeyPem).thumbprint);
    });
}
