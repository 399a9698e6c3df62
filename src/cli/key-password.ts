import { statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { KeyFileError, readKeyFile } from '../client/key-file';
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
 * Refuses --password VALUE, whatever else the command was given (--agent too): the value
 * is already in the process list and the shell history; the message says what to use.
 */
export function refusePasswordOption(options: KeyPasswordOptions): void {
  if (options.password !== undefined)
    throw new CliError(
      '--password is not accepted: a passphrase on the command line can be read by every local user (ps, ' +
        `/proc) and stays in your shell history. Put it in a file only you can read and pass --passphrase-file FILE, ` +
        `or set $${KEY_PASSPHRASE_ENV}.`,
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
  refusePasswordOption(options);
  const fileOption = options.passwordFile !== undefined ? '--password-file' : '--passphrase-file';
  const passFile = options.passwordFile ?? options.passphraseFile;
  if (passFile !== undefined) {
    const file = passFile;
    let text: string;
    let mode: number;
    try {
      text = readKeyFile(file).toString('utf8');
      mode = statSync(file).mode & 0o777;
    } catch (error) {
      // The name is not repeated: a passphrase typed where the file name goes would be printed.
      const code = error instanceof KeyFileError ? error.code : 'KEY_FILE_UNREADABLE';
      throw new CliError(
        code === 'KEY_FILE_MISSING'
          ? `${fileOption} names no file that exists (the name is not repeated here, in case it was the passphrase itself): ` +
              `it takes the path of a file holding the key's passphrase on its first line, or set $${KEY_PASSPHRASE_ENV}.`
          : code === 'KEY_FILE_NOT_REGULAR'
            ? `${fileOption} does not name a regular file (a directory, FIFO or device): give the path of a file holding the key's passphrase, or set $${KEY_PASSPHRASE_ENV}.`
            : code === 'KEY_FILE_TOO_LARGE'
              ? `${fileOption} names a file over 64 KB: give a file holding only the key's passphrase.`
              : `cannot read the file ${fileOption} names (check its permissions): it takes a readable file holding the key's passphrase, or set $${KEY_PASSPHRASE_ENV}.`,
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
