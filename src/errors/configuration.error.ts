/** Thrown at startup when KeypairAuthModule options are wrong. The message says how to fix it. */
export class KeypairAuthConfigurationError extends Error {
  override readonly name = 'KeypairAuthConfigurationError';

  static create(problem: string, fix: string): KeypairAuthConfigurationError {
    return new KeypairAuthConfigurationError(`KeypairAuthModule: ${problem} ${fix}`);
  }
}
