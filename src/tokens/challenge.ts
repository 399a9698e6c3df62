import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { authError } from '../errors/keypair-auth.exception';
import type { ServerKeyring } from '../response-signing/server-keyring';

export { CHALLENGE_SIGNING_PREFIX, challengeSigningInput } from './challenge-signing-input';

/** `<32 random bytes, base64url>.<expiry, epoch seconds>.<HMAC-SHA256, base64url>` */
const CHALLENGE = /^([A-Za-z0-9_-]{43})\.(\d{10,11})\.([A-Za-z0-9_-]{43})$/;
const MAC_INFO = 'keypair-auth challenge mac v1';

export interface IssuedChallenge {
  challenge: string;
  /** Seconds until it expires. */
  expiresIn: number;
}

export interface CheckedChallenge {
  /** The random part: the single-use value claimed in the ReplayStore. */
  nonce: string;
  expiresAtMs: number;
}

/**
 * Stateless, self-authenticating login challenges. Issuing looks nothing up and
 * stores nothing, so the answer is the same, in shape and in time, for a keyId that
 * exists and one that does not. A challenge carries its expiry and an HMAC over
 * (keyId, random, expiry) under a key derived (HKDF-SHA256) from the server
 * keyring's private keys: any instance with the same keyring can check it, and a
 * challenge for one keyId is refused for another. Single use is enforced by the
 * caller with ReplayStore.claim once the signature has verified.
 */
export class ChallengeIssuer {
  private readonly macKeys: readonly Buffer[];

  constructor(
    keyring: ServerKeyring,
    private readonly ttlMs: number,
  ) {
    // The newest key MACs new challenges; older ones still check what they issued.
    this.macKeys = keyring.keys.map((k) =>
      Buffer.from(
        hkdfSync(
          'sha256',
          k.privateKey.export({ format: 'der', type: 'pkcs8' }),
          Buffer.alloc(0),
          MAC_INFO,
          32,
        ),
      ),
    );
  }

  issue(keyId: string, now = Date.now()): IssuedChallenge {
    const nonce = randomBytes(32).toString('base64url');
    const expires = Math.floor((now + this.ttlMs) / 1000);
    const mac = this.mac(this.macKeys[0], keyId, nonce, expires);
    return {
      challenge: `${nonce}.${expires}.${mac.toString('base64url')}`,
      expiresIn: Math.round(this.ttlMs / 1000),
    };
  }

  /** Checks that we issued it, for this keyId, and that it has not expired. Throws CHALLENGE_INVALID. */
  check(keyId: string, challenge: string, now = Date.now()): CheckedChallenge {
    const match = CHALLENGE.exec(challenge);
    if (!match) throw authError('CHALLENGE_INVALID', 'challenge is not in our format');
    const [, nonce, expiresText, macText] = match;
    const expires = Number(expiresText);
    const mac = Buffer.from(macText, 'base64url');
    if (!this.macKeys.some((key) => safeEqual(this.mac(key, keyId, nonce, expires), mac))) {
      throw authError('CHALLENGE_INVALID', 'challenge was not issued here for this keyId');
    }
    const expiresAtMs = expires * 1000;
    if (expiresAtMs <= now) throw authError('CHALLENGE_INVALID', 'challenge expired');
    return { nonce, expiresAtMs };
  }

  private mac(key: Buffer, keyId: string, nonce: string, expires: number): Buffer {
    return createHmac('sha256', key).update(`${keyId}\u0000${nonce}\u0000${expires}`, 'utf8').digest();
  }
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
