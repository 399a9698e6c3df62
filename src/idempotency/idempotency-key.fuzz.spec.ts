import fc from 'fast-check';
import { FUZZ_SEED, fuzzParams, fuzzRuns, printFuzzCounts } from '../../test/support/fuzz';
import { IdempotencyException } from '../errors/idempotency.exception';
import { readIdempotencyKey } from './idempotency-key';

/** The Idempotency-Key header: a key of 1..max characters, or IDEMPOTENCY_KEY_INVALID (400), nothing else. */
const RUNS = fuzzRuns(2000);
jest.setTimeout(Math.max(30_000, RUNS * 5));
afterAll(printFuzzCounts);

const sfish = fc.string({
  unit: fc.constantFrom(...'"\\abc019-_:;=,?*() \t%\u00e9\u0000\u007f'.split('')),
  maxLength: 60,
});
const value = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'binary-ascii', maxLength: 300 }),
  sfish,
  sfish.map((s) => `"${s}"`),
  fc.uuid().map((u) => `"${u}";p=1`),
  fc.string({ maxLength: 3000 }).map((s) => `"${s.replace(/["\\]/g, '')}"`),
);

describe(`readIdempotencyKey never escapes (${RUNS} runs, seed ${FUZZ_SEED})`, () => {
  it('any header lines', () => {
    const name = fc.constantFrom('Idempotency-Key', 'idempotency-key', 'Idempotency-Keys', 'X');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, value), { maxLength: 3 }),
        fc.integer({ min: 16, max: 1024 }),
        (pairs, max) => {
          let key: string | undefined;
          try {
            key = readIdempotencyKey(pairs.flat(), max);
          } catch (error) {
            if (!(error instanceof IdempotencyException)) throw error;
            expect(error.getStatus()).toBe(400);
            return;
          }
          if (key !== undefined) {
            expect(key.length).toBeGreaterThan(0);
            expect(key.length).toBeLessThanOrEqual(max);
          }
        },
      ),
      fuzzParams('idempotency-key', RUNS),
    );
  });
});
