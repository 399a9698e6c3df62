import type { KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { loadPrivateKey } from '../keys/formats/private-key-loader';
import { KeyFormatError } from '../keys/formats/key-format.error';
import { CliError } from './cli-error';

/**
 * The private key in `file` (--key), or an error about the file in the CLI's terms. A key file
 * group or others can read is used, with a warning through `warn` (keygen writes keys 0600).
 */
export function loadPrivateKeyFile(
  file: string,
  password: string | undefined,
  warn: (line: string) => void,
): KeyObject {
  try {
    const key = loadPrivateKey(readFileSync(file), password);
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o044)
      warn(
        `warning: ${file} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}): ` +
          `anyone who can read it can sign as you. Run chmod 600 ${file}.`,
      );
    return key;
  } catch (error) {
    if (!(error instanceof KeyFormatError)) throw error;
    if (error.message.startsWith('This is a public key'))
      throw new CliError(`${file} holds a public key: --key takes the private key (NAME.key, not NAME.pub).`);
    if (/encrypted; supply/.test(error.message))
      throw new CliError(
        `${file} is encrypted: give its passphrase with --password-file FILE or $KEYPAIR_AUTH_KEY_PASSWORD (or --password).`,
      );
    throw new CliError(`cannot use ${file} as --key: ${error.message}`);
  }
}
