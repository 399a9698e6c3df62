import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import type { OpenSSHAgent, ParsedKey } from 'ssh2';
import { KeyAlgorithm, keyMatchesAlgorithm, verifyWithAlgorithm } from '../keys/key-algorithm';
import { parsePublicKey } from '../keys/formats/public-key-parser';
import { MissingPeerDependencyError } from '../peer-dependencies';
import { loadSsh2 } from '../keys/formats/ssh2-library';
import type { KeySigner } from './key-signer';
import { SshAgentError } from './ssh-agent-error';

export interface SshAgentSignerOptions {
  /** The agent's socket (default: $SSH_AUTH_SOCK). */
  socketPath?: string;
  /**
   * Picks the agent key whose fingerprint this is: the keyId `keys add` assigns by default
   * (RFC 7638 thumbprint), ssh-add -l's `SHA256:…`, or the SDK's hex SHA-256 of the public
   * key PEM. Another keyId (a name given at registration) picks the agent's only key.
   */
  keyId?: string;
  /** Picks the agent key with this public key (an `ssh-ed25519 AAAA…` line, PEM, or KeyObject). */
  publicKey?: string | KeyObject;
}

/** One key the agent holds, with the names it goes by. */
export interface SshAgentIdentity {
  readonly publicKey: KeyObject;
  readonly comment: string;
  /** `SHA256:…` as `ssh-add -l` and `ssh-keygen -lf` print it. */
  readonly sshFingerprint: string;
  /** The default keyId of `keys add` (RFC 7638 JWK thumbprint). */
  readonly keyId: string;
  /** The default keyId of createAuthHeader (hex SHA-256 of the SPKI PEM, asymmetric_jwt_auth's). */
  readonly pemSha256: string;
}

/** An identity with ssh2's parsed key (kept out of the public types: ssh2 is optional). */
interface AgentKey extends SshAgentIdentity {
  readonly agentKey: ParsedKey;
}

const SIGN_HASH: Partial<Record<KeyAlgorithm, 'sha256' | 'sha512'>> = {
  'rsa-v1_5-sha256': 'sha256',
  'rsa-v1_5-sha512': 'sha512',
};

/**
 * A KeySigner that signs through a running ssh-agent: the private key never leaves the
 * agent. It connects (with ssh2's OpenSSHAgent) on first use, picks the key (see the
 * options), and checks every signature the agent returns against that key and the
 * algorithm before handing it out. Use it as `signer` in createAuthHeader,
 * signRequestAsync, createSignedFetch and createTokenClient.
 */
export function createSshAgentSigner(options: SshAgentSignerOptions = {}): SshAgentSigner {
  return new SshAgentSigner(options);
}

export class SshAgentSigner implements KeySigner {
  private chosen: Promise<{ agent: OpenSSHAgent; identity: AgentKey }> | undefined;

  constructor(private readonly options: SshAgentSignerOptions = {}) {}

  /** The agent key this signer uses (chosen on first call). */
  async identity(): Promise<SshAgentIdentity> {
    const { agentKey: _agentKey, ...identity } = (await this.choose()).identity;
    return identity;
  }

  async publicKey(): Promise<KeyObject> {
    return (await this.choose()).identity.publicKey;
  }

  async sign(algorithm: KeyAlgorithm, data: Uint8Array): Promise<Buffer> {
    const { agent, identity } = await this.choose();
    if (!keyMatchesAlgorithm(identity.publicKey, algorithm))
      throw new SshAgentError(
        'AGENT_ALGORITHM_UNSUPPORTED',
        `the agent key ${identity.sshFingerprint} cannot sign with ${algorithm}: give the algorithm the key is registered with.`,
      );
    if (algorithm === 'rsa-pss-sha512')
      throw new SshAgentError(
        'AGENT_ALGORITHM_UNSUPPORTED',
        'an ssh-agent signs RSA with PKCS#1 v1.5 only (rsa-sha2-256/512), not RSA-PSS: ' +
          'register the key with rsa-v1_5-sha256 (the default) to sign through the agent.',
      );
    const message = Buffer.from(data);
    const hash = SIGN_HASH[algorithm];
    const signature = await new Promise<Buffer>((resolve, reject) => {
      const done = (error: Error | undefined | null, sig?: Buffer) =>
        error || !sig
          ? reject(
              new SshAgentError(
                'AGENT_SIGN_FAILED',
                `the ssh-agent did not sign with ${identity.sshFingerprint} (${error?.message ?? 'no signature'}): ` +
                  'is it still running, unlocked, and holding the key (ssh-add -l)?',
              ),
            )
          : resolve(sig);
      if (hash) agent.sign(identity.agentKey, message, { hash }, done);
      else agent.sign(identity.agentKey, message, done);
    });
    const wire = algorithm.startsWith('ecdsa-') ? sshEcdsaToRaw(signature, algorithm) : signature;
    // ssh2 drops the algorithm name of the agent's answer: an agent that ignored the
    // rsa-sha2-256 flag (SHA-1) or signed with another key must not get through.
    if (!wire || !verifyWithAlgorithm(algorithm, identity.publicKey, message, wire))
      throw new SshAgentError(
        'AGENT_SIGN_FAILED',
        `the ssh-agent's signature does not verify with ${identity.sshFingerprint} and ${algorithm}; nothing was sent. ` +
          'An agent older than OpenSSH 7.6 cannot sign RSA with SHA-256: update it, or use the key file.',
      );
    return wire;
  }

  private choose(): Promise<{ agent: OpenSSHAgent; identity: AgentKey }> {
    this.chosen ??= this.connectAndChoose();
    this.chosen.catch(() => (this.chosen = undefined));
    return this.chosen;
  }

  private async connectAndChoose(): Promise<{ agent: OpenSSHAgent; identity: AgentKey }> {
    const socketPath = this.options.socketPath ?? process.env.SSH_AUTH_SOCK;
    if (!socketPath)
      throw new SshAgentError(
        'AGENT_NOT_RUNNING',
        'no ssh-agent: $SSH_AUTH_SOCK is not set. Start one and add your key: eval "$(ssh-agent -s)" && ssh-add ~/.ssh/id_ed25519',
      );
    let ssh2;
    try {
      ssh2 = loadSsh2('to sign with ssh-agent');
    } catch (error) {
      if (error instanceof MissingPeerDependencyError)
        throw new SshAgentError('AGENT_SSH2_MISSING', error.message);
      throw error;
    }
    const agent = new ssh2.OpenSSHAgent(socketPath);
    const keys = await new Promise<ParsedKey[]>((resolve, reject) =>
      agent.getIdentities((error, found) =>
        error || !found
          ? reject(
              new SshAgentError(
                'AGENT_NOT_RUNNING',
                `cannot reach the ssh-agent at ${socketPath} (${error?.message ?? 'no answer'}): is it running? ` +
                  'Check $SSH_AUTH_SOCK, or start one: eval "$(ssh-agent -s)" && ssh-add ~/.ssh/id_ed25519',
              ),
            )
          : resolve(found.filter((k): k is ParsedKey => 'getPublicSSH' in k)),
      ),
    );
    const usable = keys.map(describe).filter((k): k is AgentKey => k !== undefined);
    return { agent, identity: pick(usable, keys.length, this.options) };
  }
}

/** An agent key we can sign with, or undefined (DSA, security keys, P-521, RSA < 2048). */
function describe(agentKey: ParsedKey): AgentKey | undefined {
  try {
    const parsed = parsePublicKey(agentKey.getPublicPEM());
    const sshFingerprint = `SHA256:${createHash('sha256').update(agentKey.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
    return {
      agentKey,
      publicKey: parsed.keyObject,
      comment: agentKey.comment ?? '',
      sshFingerprint,
      keyId: parsed.thumbprint,
      pemSha256: parsed.pemSha256,
    };
  } catch {
    return undefined;
  }
}

function pick(usable: AgentKey[], held: number, options: SshAgentSignerOptions): AgentKey {
  if (usable.length === 0)
    throw new SshAgentError(
      'AGENT_NO_KEYS',
      held === 0
        ? 'the ssh-agent holds no key: add yours with ssh-add ~/.ssh/id_ed25519'
        : `the ssh-agent holds ${held} key(s), none of a type that signs here (Ed25519, ECDSA P-256/P-384, RSA ≥ 2048): ssh-add ~/.ssh/id_ed25519`,
    );
  const list = usable
    .map((k) => `${k.comment || '(no comment)'} ${k.sshFingerprint} keyId ${k.keyId}`)
    .join('; ');
  if (options.publicKey !== undefined) {
    const wanted = spkiOf(options.publicKey);
    const match = usable.find((k) => spkiOf(k.publicKey).equals(wanted));
    if (!match)
      throw new SshAgentError(
        'AGENT_KEY_NOT_FOUND',
        `the ssh-agent does not hold that public key (ssh-add the private key first). It holds: ${list}`,
      );
    return match;
  }
  const keyId = options.keyId;
  if (keyId !== undefined) {
    const match = usable.find(
      (k) => k.keyId === keyId || k.sshFingerprint === keyId || k.pemSha256 === keyId,
    );
    if (match) return match;
  }
  if (usable.length === 1) return usable[0];
  throw new SshAgentError(
    'AGENT_KEY_NOT_FOUND',
    keyId === undefined
      ? `the ssh-agent holds ${usable.length} keys: pick one with its keyId (or its public key). It holds: ${list}`
      : `no key in the ssh-agent has the fingerprint ${keyId}: pass the keyId of one of its keys (or its public key). It holds: ${list}`,
  );
}

function spkiOf(key: string | KeyObject): Buffer {
  const object =
    typeof key === 'string'
      ? parsePublicKey(key).keyObject
      : key.type === 'public'
        ? key
        : createPublicKey(key);
  return object.export({ type: 'spki', format: 'der' });
}

/**
 * SSH's ECDSA signature blob (RFC 5656: mpint r, mpint s) as the fixed-length r||s the
 * JWS and RFC 9421 formats use; undefined when it is not one. ssh2 has no public helper
 * for this conversion, hence these few lines.
 */
function sshEcdsaToRaw(blob: Buffer, algorithm: KeyAlgorithm): Buffer | undefined {
  const size = algorithm === 'ecdsa-p384-sha384' ? 48 : 32;
  const parts: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < 2; i++) {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    at += 4;
    if (at + length > blob.length) return undefined;
    let value = blob.subarray(at, at + length);
    at += length;
    while (value.length > 0 && value[0] === 0) value = value.subarray(1);
    if (value.length > size) return undefined;
    parts.push(Buffer.concat([Buffer.alloc(size - value.length), value]));
  }
  return at === blob.length ? Buffer.concat(parts) : undefined;
}
