import { readFileSync, statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { CliError } from './cli-error';

/** The environment variable a key's passphrase can come from (kept out of the command line). */
export const KEY_PASSWORD_ENV = 'KEYPAIR_AUTH_KEY_PASSWORD';
/** Another name for KEY_PASSWORD_ENV, in ssh's words (read when KEY_PASSWORD_ENV is unset). */
export const KEY_PASSPHRASE_ENV = 'KEYPAIR_AUTH_PASSPHRASE';

/** The options every command that loads an encrypted private key takes. */
export interface KeyPasswordOptions {
  /** --password VALUE: refused (kept as an option only to say why and what to use). */
  password?: string;
  passwordFile?: string;
  /** --passphrase-file: another name for --password-file. */
  passphraseFile?: string;
}

/**
 * Adds --password-file (and its other name --passphrase-file) to a command that reads a
 * private key. The passphrase can also come from $KEYPAIR_AUTH_KEY_PASSWORD
 * ($KEYPAIR_AUTH_PASSPHRASE). `--password VALUE` is refused, not read: any local user can
 * read a command line (ps, /proc/PID/cmdline), and shells keep it in their history.
 */
export function addKeyPasswordOptions(command: Command): Command {
  return command
    .option(
      '--password-file <file>',
      `read the passphrase of an encrypted key from this file (its first line); or set $${KEY_PASSWORD_ENV}`,
    )
    .addOption(
      new Option(
        '--password <passphrase>',
        'refused: a passphrase on the command line can be read by every local user; use --passphrase-file',
      ).hideHelp(),
    )
    .addOption(
      new Option(
        '--passphrase-file <file>',
        `the same as --password-file (for OpenSSH keys too); $${KEY_PASSPHRASE_ENV} is the same as $${KEY_PASSWORD_ENV}`,
      ).conflicts('passwordFile'),
    );
}

/**
 * The passphrase: --password-file (or --passphrase-file), else
 * $KEYPAIR_AUTH_KEY_PASSWORD (or $KEYPAIR_AUTH_PASSPHRASE), else none. One mechanism for
 * every key format; the second names are ssh's word for it.
 */
export function keyPassword(
  options: KeyPasswordOptions,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (options.password !== undefined)
    throw new CliError(
      '--password is not accepted: a passphrase on the command line can be read by every local user (ps, ' +
        `/proc) and stays in your shell history. Put it in a file only you can read and pass --passphrase-file FILE, ` +
        `or set $${KEY_PASSPHRASE_ENV}.`,
    );
  const fileOption = options.passwordFile !== undefined ? '--password-file' : '--passphrase-file';
  const passFile = options.passwordFile ?? options.passphraseFile;
  if (passFile !== undefined) {
    const file = passFile;
    let text: string;
    let mode: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw Object.assign(new Error(), { code: 'EISDIR' });
      mode = stat.mode & 0o777;
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError(
        code === 'ENOENT'
          ? `there is no file ${file}: ${fileOption} takes a file holding the key's passphrase.`
          : `cannot read the passphrase from ${file} (${code ?? 'unreadable'}): ${fileOption} takes a readable file.`,
      );
    }
    // Like ssh with a private key: a passphrase other users can read protects nothing.
    if (mode & 0o077)
      throw new CliError(
        `${file} is open to other users (mode ${mode.toString(8).padStart(4, '0')}): a passphrase file must be private. ` +
          `Run chmod 600 ${file}, or pass the passphrase in $${KEY_PASSWORD_ENV}.`,
      );
    const passphrase = text.split(/\r?\n/)[0];
    if (passphrase === '')
      throw new CliError(`${file} is empty: put the key's passphrase on its first line.`);
    return passphrase;
  }
  const fromEnv = env[KEY_PASSWORD_ENV] || env[KEY_PASSPHRASE_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
