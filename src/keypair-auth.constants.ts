/** Public DI tokens. Inject with @Inject(TOKEN). */
export { REPLAY_STORE } from './stores/replay-store.interface';

/** The resolved, validated module options. */
export const KEYPAIR_AUTH_OPTIONS = Symbol('KEYPAIR_AUTH_OPTIONS');
