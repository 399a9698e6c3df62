/**
 * What a client signs to answer a login challenge: the UTF-8 bytes of
 * `keypair-auth-challenge:` followed by the challenge exactly as received. The
 * prefix keeps the signature from meaning anything in another protocol (it is not
 * a JWS signing input, an RFC 9421 signature base, nor an SSH blob). Shared by the
 * server and the client SDK; depends on nothing.
 */
export const CHALLENGE_SIGNING_PREFIX = 'keypair-auth-challenge:';

export function challengeSigningInput(challenge: string): Buffer {
  return Buffer.from(`${CHALLENGE_SIGNING_PREFIX}${challenge}`, 'utf8');
}
