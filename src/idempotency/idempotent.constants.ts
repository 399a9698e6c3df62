/** Metadata key of @Idempotent() (its resolved route options). */
export const IDEMPOTENT_METADATA = 'keypair-auth:idempotent';
