/**
 * Why an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`) could not be used.
 *
 * - `OPENSSH_PASSPHRASE_REQUIRED`: the key is encrypted and no passphrase was given.
 * - `OPENSSH_PASSPHRASE_WRONG`: the passphrase given does not decrypt it.
 * - `OPENSSH_KEY_TYPE_UNSUPPORTED`: a key this module does not sign with (DSA, security-key
 *   `sk-*` keys, ECDSA P-521, RSA under 2048 bits).
 * - `OPENSSH_CIPHER_UNSUPPORTED`: encrypted with a cipher ssh2 cannot decrypt
 *   (chacha20-poly1305@openssh.com): `ssh-keygen -p -Z aes256-ctr -f KEYFILE` re-encrypts it.
 * - `OPENSSH_KEY_INVALID`: not a readable OpenSSH private key (truncated, damaged, several keys).
 * - `OPENSSH_SSH2_MISSING`: the optional peer `ssh2`, which reads these keys, is not installed.
 *
 * The message says how to fix it and never contains the passphrase or key material.
 */
export type OpenSshKeyErrorCode =
  | 'OPENSSH_PASSPHRASE_REQUIRED'
  | 'OPENSSH_PASSPHRASE_WRONG'
  | 'OPENSSH_KEY_TYPE_UNSUPPORTED'
  | 'OPENSSH_CIPHER_UNSUPPORTED'
  | 'OPENSSH_KEY_INVALID'
  | 'OPENSSH_SSH2_MISSING';

export class OpenSshKeyError extends Error {
  override readonly name = 'OpenSshKeyError';

  constructor(
    readonly code: OpenSshKeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}
