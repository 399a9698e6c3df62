import type { KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import { KeyFileError, readKeyFile } from '../client/key-file';
import { loadPrivateKey } from '../keys/formats/private-key-loader';
import { KeyFormatError } from '../keys/formats/key-format.error';
import { OpenSshKeyError } from '../keys/formats/openssh-key.error';
import { CliError } from './cli-error';
import { KEY_PASSPHRASE_ENV } from './key-password';

/**
 * The private key in `file` (--key): PEM (PKCS#8, PKCS#1, SEC1) or OpenSSH
 * (`-----BEGIN OPENSSH PRIVATE KEY-----`, ssh-keygen's default), or an error about the
 * file in the CLI's terms. A key file group or others can read is used, with a warning
 * through `warn` (keygen and ssh-keygen write keys 0600).
 */
export function loadPrivateKeyFile(
  file: string,
  password: string | undefined,
  warn: (line: string) => void,
): KeyObject {
  try {
    const text = readKeyFile(file);
    const key = loadPrivateKey(text, password);
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o044)
      warn(
        `warning: ${file} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}): ` +
          `anyone who can read it can sign as you. Run chmod 600 ${file}.`,
      );
    return key;
  } catch (error) {
    if (error instanceof OpenSshKeyError) throw openSshError(file, error);
    if (error instanceof KeyFileError) throw new CliError(`cannot use ${file} as --key: ${error.message}`);
    if (!(error instanceof KeyFormatError)) throw error;
    if (error.message.startsWith('This is a public key'))
      throw new CliError(
        `${file} holds a public key: --key takes the private key (NAME.key, not NAME.pub; ~/.ssh/id_ed25519, not id_ed25519.pub).`,
      );
    if (/encrypted; supply/.test(error.message))
      throw new CliError(
        `${file} is encrypted: give its passphrase with --password-file FILE or $KEYPAIR_AUTH_KEY_PASSWORD (or --passphrase-file FILE, $KEYPAIR_AUTH_PASSPHRASE).`,
      );
    throw new CliError(`cannot use ${file} as --key: ${error.message}`);
  }
}

/** One line that names the fix; never the passphrase. */
function openSshError(file: string, error: OpenSshKeyError): CliError {
  switch (error.code) {
    case 'OPENSSH_PASSPHRASE_REQUIRED':
      return new CliError(
        `${file} is an encrypted OpenSSH key: give its passphrase with --passphrase-file FILE or $${KEY_PASSPHRASE_ENV} ` +
          '(or sign through ssh-agent with --agent).',
      );
    case 'OPENSSH_PASSPHRASE_WRONG':
      return new CliError(
        `the passphrase does not decrypt ${file}; nothing was signed. Check it (ssh-keygen -y -f ${file} asks for it ` +
          'and prints the public key when it is right).',
      );
    case 'OPENSSH_SSH2_MISSING':
      return new CliError(error.message);
    case 'OPENSSH_CIPHER_UNSUPPORTED':
      return new CliError(`cannot use ${file} as --key: ${error.message.replace('KEYFILE', file)}`);
    default:
      return new CliError(`cannot use ${file} as --key: ${error.message}`);
  }
}
