import fc from 'fast-check';

/**
 * Shared settings of the fuzz properties (fast-check): how many inputs per property,
 * one seed for the run (`FUZZ_SEED`, else random, and printed), and a count of the
 * inputs each parser received. `npm run fuzz` sets FUZZ_RUNS=100000; the normal test
 * run uses each file's smaller default. Every file prints its lines when it ends:
 *
 *     fuzz: cavage-header 100000 inputs, 0 escaped (seed 1234567; FUZZ_SEED=1234567 to repeat)
 *
 * An input "escapes" when the parser throws anything but its own error type (which
 * the application would answer with a 500). One escape fails the property, and
 * fast-check prints the shrunk input with the seed and path that replay it.
 */
export function fuzzRuns(fallback: number): number {
  const runs = Number(process.env.FUZZ_RUNS ?? fallback);
  return Number.isInteger(runs) && runs > 0 ? runs : fallback;
}

function seedFromEnv(): number {
  const seed = Number(process.env.FUZZ_SEED);
  return Number.isInteger(seed) ? seed : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
}

/** The seed of this run. */
export const FUZZ_SEED = seedFromEnv();

const counts = new Map<string, { inputs: number; escaped: number }>();

/**
 * fast-check parameters for a property that feeds `parser`: the run count, the run's
 * seed, and a reporter that adds the property's inputs to the parser's count (and
 * throws fast-check's usual report on failure).
 */
export function fuzzParams<Ts>(parser: string, numRuns: number): fc.Parameters<Ts> {
  return {
    numRuns,
    seed: FUZZ_SEED,
    reporter: (details: fc.RunDetails<Ts>) => {
      const count = counts.get(parser) ?? { inputs: 0, escaped: 0 };
      count.inputs += details.numRuns;
      if (details.failed) count.escaped += 1;
      counts.set(parser, count);
      if (details.failed) {
        const cause = details.errorInstance;
        const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
        throw new Error(`${parser}: ${fc.defaultReportMessage(details)}\nThe input escaped with: ${detail}`, {
          cause,
        });
      }
    },
  };
}

/** Prints one line per parser fuzzed in this file (call it from afterAll). */
export function printFuzzCounts(): void {
  const lines = [...counts].map(
    ([parser, { inputs, escaped }]) =>
      `fuzz: ${parser} ${inputs} inputs, ${escaped} escaped (seed ${FUZZ_SEED}; FUZZ_SEED=${FUZZ_SEED} to repeat)`,
  );
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  counts.clear();
}
