import { createRedisClient, whenReady, type RedisClient } from '../src/redis';

/*
 * Redis helpers shared by the HTTP rows on the Redis replay store (bench/http.ts) and the
 * scale group (bench/scale.ts): is Redis there, and removing exactly the keys of one run.
 */

/** The URL with its password replaced, for messages and the results file. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Why Redis at `url` cannot be used (connect + PING within 2 s), or null when it can. */
export async function redisUnreachable(url: string): Promise<string | null> {
  const redis = createRedisClient(url);
  try {
    await whenReady(redis, 2000);
    await redis.ping();
    return null;
  } catch (error) {
    return `Redis at ${redact(url)} is not reachable (${(error as Error).message})`;
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix` with SCAN + UNLINK; returns how many. Bounded in time. */
export async function deletePrefix(redis: RedisClient, prefix: string, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let cursor = '0';
  let deleted = 0;
  do {
    if (Date.now() > deadline) throw new Error(`deleting ${prefix}* took more than ${timeoutMs} ms`);
    const [next, keys] = (await redis.call('SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '2000')) as [
      string,
      string[],
    ];
    cursor = next;
    if (keys.length > 0) deleted += Number(await redis.call('UNLINK', ...keys));
  } while (cursor !== '0');
  return deleted;
}
