/**
 * Why signing through an ssh-agent failed.
 *
 * - `AGENT_NOT_RUNNING`: no socket ($SSH_AUTH_SOCK unset) or nothing answers on it.
 * - `AGENT_NO_KEYS`: the agent holds no key this module signs with.
 * - `AGENT_KEY_NOT_FOUND`: no key matching the public key or the fingerprint keyId asked for,
 *   or several keys and no keyId or public key to choose one.
 * - `AGENT_ALGORITHM_UNSUPPORTED`: the key is registered with an algorithm an agent cannot
 *   produce (RSA-PSS), or one that does not fit the key.
 * - `AGENT_SIGN_FAILED`: the agent refused to sign (a confirmation denied, a locked agent),
 *   or its signature does not verify with the key (nothing is sent then).
 * - `AGENT_SSH2_MISSING`: the optional peer `ssh2`, which talks to the agent, is not installed.
 * - `AGENT_TIMEOUT`: the agent did not answer within `timeoutMs` (listing its keys, or one
 *   signature); the connection is closed. The message names the step and what to check.
 * - `AGENT_ANSWER_TOO_LARGE`: the answer is over 256 KB (OpenSSH's own limit): not an agent.
 */
export type SshAgentErrorCode =
  | 'AGENT_NOT_RUNNING'
  | 'AGENT_NO_KEYS'
  | 'AGENT_KEY_NOT_FOUND'
  | 'AGENT_ALGORITHM_UNSUPPORTED'
  | 'AGENT_SIGN_FAILED'
  | 'AGENT_SSH2_MISSING'
  | 'AGENT_TIMEOUT'
  | 'AGENT_ANSWER_TOO_LARGE';

export class SshAgentError extends Error {
  override readonly name = 'SshAgentError';

  constructor(
    readonly code: SshAgentErrorCode,
    message: string,
  ) {
    super(message);
  }
}
