/**
 * Why signing through an ssh-agent failed.
 *
 * - `AGENT_NOT_RUNNING`: no socket ($SSH_AUTH_SOCK unset) or nothing answers on it.
 * - `AGENT_NO_KEYS`: the agent holds no key this module signs with.
 * - `AGENT_KEY_NOT_FOUND`: several keys, none matching the keyId or public key asked for.
 * - `AGENT_ALGORITHM_UNSUPPORTED`: the key is registered with an algorithm an agent cannot
 *   produce (RSA-PSS), or one that does not fit the key.
 * - `AGENT_SIGN_FAILED`: the agent refused to sign (a confirmation denied, a locked agent),
 *   or its signature does not verify with the key (nothing is sent then).
 * - `AGENT_SSH2_MISSING`: the optional peer `ssh2`, which talks to the agent, is not installed.
 */
export type SshAgentErrorCode =
  | 'AGENT_NOT_RUNNING'
  | 'AGENT_NO_KEYS'
  | 'AGENT_KEY_NOT_FOUND'
  | 'AGENT_ALGORITHM_UNSUPPORTED'
  | 'AGENT_SIGN_FAILED'
  | 'AGENT_SSH2_MISSING';

export class SshAgentError extends Error {
  override readonly name = 'SshAgentError';

  constructor(
    readonly code: SshAgentErrorCode,
    message: string,
  ) {
    super(message);
  }
}
