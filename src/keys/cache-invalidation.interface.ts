/** A change that makes cached key or account entries stale. */
export type CacheInvalidation =
  | { readonly kind: 'key'; readonly ids: readonly string[] }
  | { readonly kind: 'user'; readonly userId: string };

/**
 * Carries cache invalidations between instances (the Redis one uses pub/sub).
 * Delivery is best effort: the key cache's TTL is the backstop when a message is lost.
 */
export interface CacheInvalidationBus {
  publish(event: CacheInvalidation): Promise<void>;
  /** Registers the handler for events from every instance (this one included). */
  subscribe(handler: (event: CacheInvalidation) => void): Promise<void>;
  close?(): Promise<void>;
}
