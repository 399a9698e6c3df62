// Redis-backed stores: `import { RedisReplayStore } from 'nestjs-keypair-auth/redis'`.
// Kept behind a subpath so the core package has no Redis dependency (ioredis is an
// optional peer dependency, needed only when you import this entry point).

// First, as in the server entry point: a missing peer dependency (Nest, TypeORM, …) fails
// here with the command that installs it, not with a bare "Cannot find module".
import '../check-peer-dependencies';
export { MissingPeerDependencyError } from '../peer-dependencies';

export { createRedisClient, FAIL_FAST_REDIS_OPTIONS, whenReady } from './redis-connection';
export type { RedisClient } from './redis-connection';
export { RedisReplayStore } from './redis-replay.store';
export type { RedisReplayStoreOptions } from './redis-replay.store';
export { RedisCacheInvalidationBus } from './redis-cache-invalidation.bus';
export { RedisIdempotencyStore } from './redis-idempotency.store';
export type { RedisIdempotencyStoreOptions } from './redis-idempotency.store';
export { RedisThrottleStore } from './redis-throttle.store';
export type { RedisThrottleStoreOptions } from './redis-throttle.store';
