import type { KeyAlgorithm } from '../../src/keys/key-algorithm';
import { testKey, TestKeyPair } from '../support/keys';
import type { AttackEnv } from './attack-env';

/**
 * Keys the algorithm cases need beyond the corpus's: alice's P-384 key, and an RSA key
 * pinned to rsa-v1_5-sha256 by an explicit algorithm (the corpus's alice-rsa is registered
 * without one). Registered once per environment, on first use.
 */
const EXTRA: Record<string, { key: () => TestKeyPair; algorithm?: KeyAlgorithm }> = {
  'alice-p384': { key: () => testKey('p384', 0) },
  'alice-rsa-pinned': { key: () => testKey('rsa', 1), algorithm: 'rsa-v1_5-sha256' },
};

const registered = new WeakMap<AttackEnv, Map<string, Promise<void>>>();

/** The key registered under `keyId` for alice (registering it on first use). */
export async function algorithmKey(env: AttackEnv, keyId: keyof typeof EXTRA): Promise<TestKeyPair> {
  const spec = EXTRA[keyId];
  const done = registered.get(env) ?? new Map<string, Promise<void>>();
  registered.set(env, done);
  if (!done.has(keyId)) {
    done.set(
      keyId,
      (async () => {
        const alice = await env.t.registry.findUserByUsername('alice');
        if (!alice) throw new Error('the corpus has no alice');
        await env.t.registry.register(alice, spec.key().publicPem, { keyId, algorithm: spec.algorithm });
      })(),
    );
  }
  await done.get(keyId);
  return spec.key();
}
