import type { AttackSuite } from './attack-suite';
import { REPLAY_STORE_SUITE } from './replay-store.suite';

/**
 * The suites with an environment of their own, run by attack-corpus.e2e-spec.ts on both
 * adapters. Add one line per suite.
 */
export const ATTACK_SUITES: AttackSuite<unknown>[] = [REPLAY_STORE_SUITE];
