/** Internal DI tokens: not exported from the package barrel. */
export const KEYPAIR_AUTH_DATA_SOURCE = Symbol('KEYPAIR_AUTH_DATA_SOURCE');
export const KEYPAIR_AUTH_PASSPORT = Symbol('KEYPAIR_AUTH_PASSPORT');
