import { Command, CommanderError } from 'commander';
import { addCertificateCommands } from './certificate-commands';
import { CliError } from './cli-error';
import { CliIo, consoleIo } from './cli-io';
import { redactCommanderEcho } from './commander-echo';
import { packageVersion } from './cli-version';
import { addKeyCommands } from './key-commands';
import { addKeygenCommand } from './keygen-command';
import { addRequestCommand } from './request-command';
import { addTokenCommands } from './token-commands';
import { addUserCommands } from './user-commands';
import { addWebBotAuthCommands } from './web-bot-auth-commands';

export type { CliIo } from './cli-io';

/**
 * The `keypair-auth` command line: keys, users, certificates, tokens, signed requests.
 * Only users, keys and certs open a database (and load TypeORM); the rest never do.
 */
export function buildCli(io: CliIo = consoleIo): Command {
  const program = new Command('keypair-auth')
    .description(
      'Manage users, public keys and client certificates for nestjs-keypair-auth, and make credentials and signed requests.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand('help [command]', 'show help for a command')
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
      // Commander echoes argv values in some errors; a secret typed there is not printed back.
      outputError: (s, write) => write(redactCommanderEcho(s)),
    })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  addKeygenCommand(program, io);
  addUserCommands(program, io);
  addKeyCommands(program, io);
  addTokenCommands(program, io);
  addRequestCommand(program, io);
  addCertificateCommands(program, io);
  addWebBotAuthCommands(program, io);
  return program;
}

/** Runs the CLI; resolves to the process exit code. User errors print `error: …` (no stack) on stderr. */
export async function runCli(argv: string[], io: CliIo = consoleIo): Promise<number> {
  const program = buildCli(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    const e = error as { message?: string; stack?: string };
    io.err(`error: ${e.message || String(error)}`);
    if (process.env.KEYPAIR_AUTH_DEBUG) io.err(e.stack ?? '');
    return 1;
  }
}
