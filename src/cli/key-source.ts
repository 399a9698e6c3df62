import type { KeyObject } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { readKeyFile } from '../client/key-file';
import { keySignerFor, type KeySigner } from '../client/key-signer';
import { SshAgentError } from '../client/ssh-agent-error';
import { createSshAgentSigner } from '../client/ssh-agent-signer';
import { parsePublicKey } from '../keys/formats/public-key-parser';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import { defaultKeyId } from './default-key-id';
import { addKeyPasswordOptions, KeyPasswordOptions, keyPassword, refusePasswordOption } from './key-password';
import { loadPrivateKeyFile } from './private-key-file';

/** The options of a command that signs: --key FILE, or --agent (with --key choosing the agent key). */
export interface KeySourceOptions extends KeyPasswordOptions {
  key?: string;
  agent?: boolean;
  keyId?: string;
}

/** What signs, and the keyId to send. `privateKey` is undefined with --agent. */
export interface KeySource {
  signer: KeySigner;
  privateKey?: KeyObject;
  keyId: string;
}

/**
 * A leading `~/` is the home directory, as in ssh's `-i`: `--key "~/.ssh/id_ed25519"` works
 * quoted too (the shell expands an unquoted one itself). Only `~/`, not `~user/`.
 */
export function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

function keyFileArgument(value: string): string {
  const path = expandHome(value);
  if (!existsSync(path))
    throw new InvalidArgumentError(
      `There is no file ${path}: give the path of a private key (NAME.key from keygen, or ~/.ssh/id_ed25519).`,
    );
  if (!statSync(path).isFile())
    throw new InvalidArgumentError(`${path} is not a file: give a private key file.`);
  return path;
}

/** Adds --key, --agent and the passphrase options to a command that signs. */
export function addKeySourceOptions(command: Command): Command {
  command
    .option(
      '--key <file>',
      'private key file: PEM (NAME.key from keygen) or OpenSSH (~/.ssh/id_ed25519). With --agent: picks the agent key by FILE.pub',
      keyFileArgument,
    )
    .option(
      '--agent',
      'sign through the running ssh-agent ($SSH_AUTH_SOCK): the private key stays in the agent. ' +
        'Uses the agent key with the --key-id fingerprint, or --key FILE.pub, or its only key',
    );
  return addKeyPasswordOptions(command);
}

/** The public key file that names the agent key for `--agent --key FILE`: FILE.pub, or FILE if it is one. */
function publicKeyFileFor(file: string): string {
  if (file.endsWith('.pub')) return file;
  const candidates = [
    `${file}.pub`,
    ...(file.endsWith('.key') ? [`${file.slice(0, -'.key'.length)}.pub`] : []),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new CliError(
      `with --agent, --key picks the agent key by its public key, and there is no ${candidates.join(' or ')}: ` +
        'give --key the .pub file (the private key file is not read), or leave --key out.',
    );
  return found;
}

/** The signer and keyId of --key / --agent; errors in the CLI's terms, no stack. */
export async function resolveKeySource(opts: KeySourceOptions, io: CliIo): Promise<KeySource> {
  // Before anything else, --agent or not: the value is on the command line already.
  refusePasswordOption(opts);
  if (!opts.agent) {
    if (opts.key === undefined)
      throw new CliError('give --key FILE (a private key file) or --agent (sign through ssh-agent).');
    const privateKey = loadPrivateKeyFile(opts.key, keyPassword(opts), (line) => io.err(line));
    return { signer: keySignerFor(privateKey), privateKey, keyId: opts.keyId ?? defaultKeyId(privateKey) };
  }
  let publicKey: string | undefined;
  if (opts.key !== undefined) {
    const file = publicKeyFileFor(opts.key);
    try {
      // A regular file of at most 64 KB only: a FIFO named FILE.pub would block the CLI.
      publicKey = parsePublicKey(readKeyFile(file).toString('utf8')).spkiPem;
    } catch (error) {
      throw new CliError(`cannot read the public key ${file} for --agent: ${(error as Error).message}`);
    }
  }
  const signer = createSshAgentSigner({ keyId: opts.keyId, publicKey });
  try {
    const identity = await signer.identity();
    return { signer, keyId: opts.keyId ?? identity.keyId };
  } catch (error) {
    if (error instanceof SshAgentError) throw new CliError(`--agent: ${error.message}`);
    throw error;
  }
}
