// Test helpers for implementers: `import { replayStoreContract } from 'nestjs-keypair-auth/testing'`.
export { replayStoreContract } from './replay-store.contract';
export { idempotencyStoreContract } from './idempotency-store.contract';
export { throttleStoreContract } from './throttle-store.contract';
