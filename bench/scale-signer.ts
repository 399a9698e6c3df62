import { createPrivateKey } from 'node:crypto';
import { cpus } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createAuthHeader } from '../src/client';
import { requestTarget, UNSIGNED_HEADERS } from './fixtures';

/*
 * Pre-signs `Authorization: JWT …` requests for the scale benchmark with our
 * client (`createAuthHeader`: header {"alg":"EdDSA","kid"}, claims username,
 * time, a fresh nonce), round robin over many keys, on worker threads (one per
 * core), between measured runs. bench/signer-pool.ts signs with one key only.
 */

export interface ScaleSignerKey {
  keyId: string;
  username: string;
  privatePem: string;
}

interface Job {
  id: number;
  /** Key i of the request j is keys[(first + j) % modulo] (round robin over `modulo` keys). */
  first: number;
  modulo: number;
  count: number;
  time: number;
  basePath: string;
}

interface Done {
  id: number;
  pool?: ScaleRequest[];
  error?: string;
}

/** One request: path with a fresh cursor, and its headers. */
export interface ScaleRequest {
  path: string;
  headers: Record<string, string>;
}

export class ScaleSigner {
  private readonly workers: Worker[] = [];
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (p: ScaleRequest[]) => void; reject: (e: Error) => void }
  >();

  constructor(keys: readonly ScaleSignerKey[], threads = Math.max(1, Math.min(cpus().length, 4))) {
    for (let t = 0; t < threads; t++) {
      const worker = new Worker(__filename, { workerData: keys });
      worker.on('message', (done: Done) => {
        const waiter = this.waiting.get(done.id);
        if (!waiter) return;
        this.waiting.delete(done.id);
        if (done.error !== undefined) waiter.reject(new Error(done.error));
        else waiter.resolve(done.pool ?? []);
      });
      worker.on('error', (error) => {
        for (const w of this.waiting.values()) w.reject(error);
        this.waiting.clear();
      });
      this.workers.push(worker);
    }
  }

  /** `count` requests, round robin over keys[0..modulo), JWT `time` = `time` (epoch seconds). */
  async sign(count: number, modulo: number, time: number, basePath: string): Promise<ScaleRequest[]> {
    const share = Math.ceil(count / this.workers.length);
    const parts = this.workers.map((worker, t) => {
      const n = Math.max(0, Math.min(share, count - t * share));
      if (n === 0) return Promise.resolve([] as ScaleRequest[]);
      const id = this.nextId++;
      return new Promise<ScaleRequest[]>((resolve, reject) => {
        this.waiting.set(id, { resolve, reject });
        const job: Job = { id, first: (t * share) % modulo, modulo, count: n, time, basePath };
        worker.postMessage(job);
      });
    });
    return (await Promise.all(parts)).flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

if (!isMainThread && parentPort && Array.isArray(workerData)) {
  const port = parentPort;
  const keys = (workerData as ScaleSignerKey[]).map((k) => ({
    keyId: k.keyId,
    username: k.username,
    privateKey: createPrivateKey(k.privatePem),
  }));
  const one = async (k: number, time: number, basePath: string): Promise<ScaleRequest> => {
    const key = keys[k];
    const authorization = await createAuthHeader({
      username: key.username,
      privateKey: key.privateKey,
      keyId: key.keyId,
      algorithm: 'ed25519',
      time,
    });
    return { path: requestTarget(basePath), headers: { ...UNSIGNED_HEADERS, authorization } };
  };
  port.on('message', (job: Job) => {
    void (async () => {
      try {
        const pool: ScaleRequest[] = new Array<ScaleRequest>(job.count);
        // createAuthHeader signs through WebCrypto (jose), on libuv's thread pool: keep it busy.
        for (let j = 0; j < job.count; j += 32) {
          const batch = await Promise.all(
            Array.from({ length: Math.min(32, job.count - j) }, (_, b) =>
              one((job.first + j + b) % job.modulo, job.time, job.basePath),
            ),
          );
          for (let b = 0; b < batch.length; b++) pool[j + b] = batch[b];
        }
        port.postMessage({ id: job.id, pool } satisfies Done);
      } catch (error) {
        port.postMessage({ id: job.id, error: String((error as Error)?.stack ?? error) } satisfies Done);
      }
    })();
  });
}
