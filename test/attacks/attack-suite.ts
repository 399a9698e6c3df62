import type { AdapterName } from '../support/test-app';
import type { AttackCase } from './attack-harness';

/**
 * A group of attack cases that needs an app configured its own way (an `origin`, native
 * mTLS, a small replay store, ...). The corpus runs every suite on both adapters, next to
 * the default environment of `attack-env.ts`, and counts its cases in the same summary.
 */
export interface AttackSuite<Env> {
  /** Shown in the summary line, e.g. `origin-bound`. */
  readonly name: string;
  readonly setup: (adapter: AdapterName) => Promise<Env>;
  readonly teardown: (env: Env) => Promise<void>;
  readonly cases: readonly AttackCase<Env>[];
}

/** Lets a list of suites with different environments share one array type. */
export function attackSuite<Env>(suite: AttackSuite<Env>): AttackSuite<unknown> {
  return suite as unknown as AttackSuite<unknown>;
}
