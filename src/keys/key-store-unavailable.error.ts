/** The key or user store could not answer: requests that need it are refused with 503. */
export class KeyStoreUnavailableError extends Error {
  override readonly name = 'KeyStoreUnavailableError';
}
