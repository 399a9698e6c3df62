import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CertificateVerifier,
  initCa,
  isCertificateError,
  issueClientCert,
  type CertificateVerifierOptions,
} from '../src';
import { hostileChain } from '../test/support/hostile-chain';

/** Names of the rows, for baselines and targets. */
export const CHAIN_ROWS = {
  legitCold: 'certificate chain: legitimate (leaf + intermediate), verify, uncached',
  hostileCold: 'certificate chain: hostile (leaf + 12 self-issued look-alikes), verify, uncached',
  legitCached: 'certificate chain: legitimate, verify, verdict cached',
  hostileCached: 'certificate chain: hostile, verify, verdict cached',
} as const;

/** The item 2 target: what one request with the hostile chain may cost the main thread. */
export const HOSTILE_CHAIN_TARGET_MICROS = 5_000;

export interface ChainCase {
  name: string;
  op: () => void;
  baseline?: string;
}

/**
 * Path validation (CertificateVerifier, what `caBundle` runs per request) of a legitimate
 * chain and of the hostile one of issue 14 item 2, each uncached (a verifier whose verdict
 * cache is off: the work of the first request with a chain) and cached (the same chain
 * again: every later request). The hostile chain must be refused, the legitimate accepted.
 */
export async function certificateChainCases(): Promise<{ cases: ChainCase[]; close: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kpa-bench-chain-'));
  const ca = await initCa(dir, { cn: 'Test' });
  const leaf = (await issueClientCert(dir, 'alice', { pkcs12: false })).certificate;
  const legit = [new X509Certificate(ca.intermediatePem)];
  const hostile = await hostileChain(12, 'Test Root');
  const anchors = [new X509Certificate(ca.rootPem)];
  const options: CertificateVerifierOptions = { trustAnchors: anchors };
  const cold = new CertificateVerifier({ ...options, verdictCacheSize: 0 });
  const cached = new CertificateVerifier(options);

  const accepts = (verifier: CertificateVerifier) => () => {
    if (verifier.verify(leaf, legit).path.length !== 3) throw new Error('legitimate chain: wrong path');
  };
  const refuses = (verifier: CertificateVerifier) => () => {
    try {
      verifier.verify(hostile.leaf, hostile.chain);
    } catch (error) {
      if (isCertificateError(error, 'CERT_UNTRUSTED')) return;
      throw error;
    }
    throw new Error('hostile chain accepted');
  };
  const cases: ChainCase[] = [
    { name: CHAIN_ROWS.legitCold, op: accepts(cold) },
    { name: CHAIN_ROWS.hostileCold, op: refuses(cold), baseline: CHAIN_ROWS.legitCold },
    { name: CHAIN_ROWS.legitCached, op: accepts(cached) },
    { name: CHAIN_ROWS.hostileCached, op: refuses(cached), baseline: CHAIN_ROWS.legitCached },
  ];
  return { cases, close: () => rm(dir, { recursive: true, force: true }) };
}
