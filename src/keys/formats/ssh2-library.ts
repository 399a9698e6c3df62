import { requireOptionalPeer } from '../../peer-dependencies';

/** ssh2's types: its key parser (utils.parseKey) and its ssh-agent client (OpenSSHAgent). */
export type Ssh2 = typeof import('ssh2');

/**
 * ssh2, loaded the first time an OpenSSH private key or an ssh-agent is used: it is an
 * optional peer dependency, so the client SDK and the CLI load without it. `purpose`
 * completes "nestjs-keypair-auth needs ssh2 …" in the install hint (MissingPeerDependencyError).
 */
export function loadSsh2(purpose: string): Ssh2 {
  return requireOptionalPeer<Ssh2>('ssh2', purpose);
}
