/**
 * A mistake the person at the keyboard can fix: the CLI prints `error: <message>`
 * on stderr, without a stack trace, and exits with `exitCode` (1 unless a
 * command says otherwise). The message says what to do, in their words.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
