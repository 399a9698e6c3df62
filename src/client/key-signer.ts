import { createPublicKey, KeyObject } from 'node:crypto';
import { KeyAlgorithm, signWithAlgorithm } from '../keys/key-algorithm';

/**
 * Something that signs with a private key the caller may never see, such as an
 * ssh-agent (createSshAgentSigner). Signatures are in the form the wire formats use:
 * ECDSA as r||s (fixed length), RSA PKCS#1 v1.5, Ed25519 the raw 64 bytes.
 */
export interface KeySigner {
  /** The public key of the signing key (it selects the algorithm and the default keyId). */
  publicKey(): Promise<KeyObject>;
  /** Signs `data` with `algorithm`, which the key must fit. */
  sign(algorithm: KeyAlgorithm, data: Uint8Array): Promise<Buffer>;
}

/** A KeySigner over a private KeyObject in this process. */
export function keySignerFor(privateKey: KeyObject): KeySigner {
  const publicKey = createPublicKey(privateKey);
  return {
    publicKey: () => Promise.resolve(publicKey),
    sign: (algorithm, data) => Promise.resolve(signWithAlgorithm(algorithm, privateKey, data)),
  };
}
