import { createPrivateKey, createPublicKey } from 'node:crypto';
import { cpus } from 'node:os';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import {
  signedPool,
  type KeyPair,
  type SignatureKind,
  type SignedHeaders,
  type SignOptions,
} from './fixtures';

/*
 * Pre-signs pools of requests on worker threads (one per core), between measured
 * runs, so the load generator never signs while it measures. Every request gets
 * its own nonce/created/Date and signature: a replay would be refused.
 */

interface Job {
  id: number;
  kind: SignatureKind;
  count: number;
  origin: string;
  privatePem: string;
  options: SignOptions;
}

interface Done {
  id: number;
  pool?: SignedHeaders[];
  error?: string;
}

export class SignerPool {
  private readonly workers: Worker[] = [];
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (p: SignedHeaders[]) => void; reject: (e: Error) => void }
  >();

  constructor(threads = Math.max(1, Math.min(cpus().length, 4))) {
    for (let t = 0; t < threads; t++) {
      const worker = new Worker(__filename);
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

  /** `count` distinct signed requests, signed in parallel on the worker threads. */
  async sign(
    kind: SignatureKind,
    count: number,
    origin: string,
    key: KeyPair,
    options: SignOptions = {},
  ): Promise<SignedHeaders[]> {
    const privatePem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const share = Math.ceil(count / this.workers.length);
    const parts = this.workers.map((worker, t) => {
      const n = Math.max(0, Math.min(share, count - t * share));
      if (n === 0) return Promise.resolve([] as SignedHeaders[]);
      const id = this.nextId++;
      return new Promise<SignedHeaders[]>((resolve, reject) => {
        this.waiting.set(id, { resolve, reject });
        const job: Job = { id, kind, count: n, origin, privatePem, options };
        worker.postMessage(job);
      });
    });
    return (await Promise.all(parts)).flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const keys = new Map<string, KeyPair>();
  port.on('message', (job: Job) => {
    void (async () => {
      try {
        let key = keys.get(job.privatePem);
        if (!key) {
          const privateKey = createPrivateKey(job.privatePem);
          const publicKey = createPublicKey(privateKey);
          key = {
            privateKey,
            publicKey,
            publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          };
          keys.set(job.privatePem, key);
        }
        const pool = await signedPool(job.kind, job.count, job.origin, key, job.options);
        port.postMessage({ id: job.id, pool } satisfies Done);
      } catch (error) {
        port.postMessage({ id: job.id, error: String((error as Error)?.stack ?? error) } satisfies Done);
      }
    })();
  });
}
