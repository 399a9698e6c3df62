import { probeServices } from './services';

/**
 * Probes PostgreSQL, Redis and nginx once for the whole run. Tests that need a
 * missing service are skipped with a visible message, unless REQUIRE_SERVICES=1
 * (set by .ci/run), in which case the run fails here.
 */
export default async function globalSetup(): Promise<void> {
  const status = await probeServices();
  const missing = Object.entries(status)
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  for (const [name, ok] of Object.entries(status))
    process.env[`KPA_HAVE_${name.toUpperCase()}`] = ok ? '1' : '0';
  if (missing.length === 0) return;
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`REQUIRE_SERVICES=1 but these services are unreachable: ${missing.join(', ')}`);
  }
  console.warn(
    `\n*** SKIPPING tests that need: ${missing.join(', ')} (not reachable). ` +
      'Set REQUIRE_SERVICES=1 to make this a failure. ***\n',
  );
}
