import { createHash, createPublicKey, KeyObject } from 'node:crypto';
import { Socket } from 'node:net';
import type { OpenSSHAgent, ParsedKey } from 'ssh2';
import { KeyAlgorithm, keyMatchesAlgorithm, verifyWithAlgorithm } from '../keys/key-algorithm';
import { parsePublicKey } from '../keys/formats/public-key-parser';
import { MissingPeerDependencyError } from '../peer-dependencies';
import { loadSsh2, type Ssh2 } from '../keys/formats/ssh2-library';
import type { KeySigner } from './key-signer';
import { SshAgentError } from './ssh-agent-error';

export interface SshAgentSignerOptions {
  /** The agent's socket (default: $SSH_AUTH_SOCK). */
  socketPath?: string;
  /**
   * Picks the agent key whose fingerprint this is: the keyId `keys add` assigns by default
   * (RFC 7638 thumbprint, 43 base64url characters), ssh-add -l's `SHA256:…`, or the SDK's hex
   * SHA-256 of the public key PEM (64 hex digits). A keyId of one of these forms that matches
   * no agent key is an error (AGENT_KEY_NOT_FOUND, listing the agent's keys), even when the
   * agent holds one key. Only a keyId of another form (a name given at registration, such as
   * `alice-laptop`) picks the agent's only key.
   */
  keyId?: string;
  /** Picks the agent key with this public key (an `ssh-ed25519 AAAA…` line, PEM, or KeyObject). */
  publicKey?: string | KeyObject;
  /**
   * Milliseconds each exchange with the agent (listing its keys, one signature) may take
   * before it fails with AGENT_TIMEOUT and its socket is closed (default 10 000; 1 to
   * 600 000). Raise it if the agent asks for a confirmation (ssh-add -c) that takes longer.
   */
  timeoutMs?: number;
}

/** The default of SshAgentSignerOptions.timeoutMs. */
export const DEFAULT_AGENT_TIMEOUT_MS = 10_000;
const MAX_AGENT_TIMEOUT_MS = 600_000;
/** The largest answer read from an agent, as OpenSSH's own client (authfd.c MAX_AGENT_REPLY_LEN). */
const MAX_AGENT_REPLY_BYTES = 256 * 1024;

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
  private chosen: Promise<{ agent: AgentLink; identity: AgentKey }> | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: SshAgentSignerOptions = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_AGENT_TIMEOUT_MS)
      throw new TypeError(
        `timeoutMs must be a whole number of milliseconds from 1 to ${MAX_AGENT_TIMEOUT_MS} (default ${DEFAULT_AGENT_TIMEOUT_MS}).`,
      );
    this.timeoutMs = timeoutMs;
  }

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
    const signature = await agent.exchange<Buffer>(
      `sign with ${identity.sshFingerprint}`,
      'is it waiting for a confirmation (ssh-add -c), or stuck? Check it with ssh-add -l, or restart it',
      (openssh, resolve, reject) => {
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
        if (hash) openssh.sign(identity.agentKey, message, { hash }, done);
        else openssh.sign(identity.agentKey, message, done);
      },
    );
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

  private choose(): Promise<{ agent: AgentLink; identity: AgentKey }> {
    this.chosen ??= this.connectAndChoose();
    this.chosen.catch(() => (this.chosen = undefined));
    return this.chosen;
  }

  private async connectAndChoose(): Promise<{ agent: AgentLink; identity: AgentKey }> {
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
    const agent = new AgentLink(ssh2, socketPath, this.timeoutMs);
    const keys = await agent.exchange<ParsedKey[]>(
      'list its keys',
      'is $SSH_AUTH_SOCK the socket of a running ssh-agent? Check it with ssh-add -l, or start one: eval "$(ssh-agent -s)"',
      (openssh, resolve, reject) =>
        openssh.getIdentities((error, found) =>
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

/**
 * One agent socket path; each exchange (list the keys, one signature) runs on its own
 * connection, as ssh2's OpenSSHAgent does, with a deadline and a size bound ssh2 does not
 * have: an agent that accepts the connection and never answers, or announces an answer it
 * never finishes, would otherwise keep the caller (and the process) waiting forever.
 */
class AgentLink {
  constructor(
    private readonly ssh2: Ssh2,
    private readonly socketPath: string,
    private readonly timeoutMs: number,
  ) {}

  exchange<T>(
    step: string,
    check: string,
    run: (agent: OpenSSHAgent, resolve: (value: T) => void, reject: (error: Error) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const sockets: Socket[] = [];
      let settled = false;
      const finish = (error: Error | undefined, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        if (error) reject(error);
        else resolve(value as T);
      };
      const timer = setTimeout(
        () =>
          finish(
            new SshAgentError(
              'AGENT_TIMEOUT',
              `the ssh-agent at ${this.socketPath} did not answer within ${this.timeoutMs} ms when asked to ${step}: ${check}.`,
            ),
          ),
        this.timeoutMs,
      );
      const agent = new this.ssh2.OpenSSHAgent(this.socketPath);
      // ssh2's getStream opens the socket of one exchange; this one is the same (connect,
      // hand over, fail on close) but keeps the socket, to close it on the deadline, and
      // counts what the agent sends.
      agent.getStream = (cb: (error: Error | undefined, stream?: Socket) => void) => {
        const socket = new Socket();
        sockets.push(socket);
        let received = 0;
        let header = Buffer.alloc(0);
        let called = false;
        const once = (error: Error | undefined, stream?: Socket) => {
          if (called) return;
          called = true;
          cb(error, stream);
        };
        socket.on('data', (chunk: Buffer) => {
          received += chunk.length;
          // One request per connection: the first 4 bytes are the length of the answer.
          if (header.length < 4) header = Buffer.concat([header, chunk.subarray(0, 4 - header.length)]);
          const announced = header.length === 4 ? 4 + header.readUInt32BE(0) : 0;
          if (received > MAX_AGENT_REPLY_BYTES || announced > MAX_AGENT_REPLY_BYTES)
            finish(
              new SshAgentError(
                'AGENT_ANSWER_TOO_LARGE',
                `the ssh-agent at ${this.socketPath} answered with more than ${MAX_AGENT_REPLY_BYTES / 1024} KB when asked to ${step}: ` +
                  'this is not an ssh-agent (check $SSH_AUTH_SOCK).',
              ),
            );
        });
        socket.once('connect', () => once(undefined, socket));
        socket.once('error', () => once(new Error('Failed to connect to agent')));
        socket.once('close', () => once(new Error('Failed to connect to agent')));
        socket.connect(this.socketPath);
      };
      run(
        agent,
        (value) => finish(undefined, value),
        (error) => finish(error),
      );
    });
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
    // A keyId of a fingerprint's form names one key: signing with another key under it
    // would send a token that claims a key it was not made with.
    if (looksLikeFingerprint(keyId))
      throw new SshAgentError(
        'AGENT_KEY_NOT_FOUND',
        `no key in the ssh-agent has the fingerprint ${keyId}: ssh-add that key, or pass the keyId of one of its keys (or its public key). It holds: ${list}`,
      );
  }
  if (usable.length === 1) return usable[0];
  throw new SshAgentError(
    'AGENT_KEY_NOT_FOUND',
    keyId === undefined
      ? `the ssh-agent holds ${usable.length} keys: pick one with its keyId (or its public key). It holds: ${list}`
      : `no key in the ssh-agent has the fingerprint ${keyId}: pass the keyId of one of its keys (or its public key). It holds: ${list}`,
  );
}

/**
 * True for the forms the keyIds of this package take by default: `SHA256:…` (ssh-add -l),
 * an RFC 7638 thumbprint (43 base64url characters, `keys add`), a hex SHA-256 (64 digits,
 * createAuthHeader). Such a keyId is a key's fingerprint, never a name for "the only key".
 */
export function looksLikeFingerprint(keyId: string): boolean {
  return /^SHA256:/.test(keyId) || /^[A-Za-z0-9_-]{43}$/.test(keyId) || /^[0-9a-fA-F]{64}$/.test(keyId);
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
