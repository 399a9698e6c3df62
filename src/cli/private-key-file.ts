import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadPrivateKey } from '../keys/key-formats';
import { KeyFormatError } from '../keys/key-format.error';
import { CliError } from './cli-error';

/** The private key in `file` (--key), or an error about the file in the CLI's terms. */
export function loadPrivateKeyFile(file: string, password: string | undefined): KeyObject {
  try {
    return loadPrivateKey(readFileSync(file), password);
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
