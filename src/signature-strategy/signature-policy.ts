import { authError } from '../errors/keypair-auth.exception';

/** What a signature must satisfy. Module options set the defaults; @RequireSignature() tightens per route. */
export interface SignaturePolicy {
  /** Components (RFC 9421 identifiers, or Cavage header names) to cover beyond the minimum. */
  readonly requiredComponents: readonly string[];
  /** Require a `nonce` parameter (RFC 9421). Without one, the signature itself is remembered. */
  readonly requireNonce: boolean;
  /** Oldest accepted `created` (or Date), in milliseconds. */
  readonly maxAgeMs: number;
  /** RFC 9421: check the signature with this label / tag when several are present. */
  readonly label?: string;
  readonly tag?: string;
}

export interface SignaturePolicyOverride {
  requiredComponents?: string[];
  requireNonce?: boolean;
  maxAgeSeconds?: number;
  label?: string;
  tag?: string;
}

/** A route may only tighten: components add up, the shorter age and the stricter nonce rule win. */
export function tightenPolicy(
  base: SignaturePolicy,
  route: SignaturePolicyOverride | undefined,
): SignaturePolicy {
  if (!route) return base;
  return {
    requiredComponents: [...new Set([...base.requiredComponents, ...(route.requiredComponents ?? [])])],
    requireNonce: base.requireNonce || route.requireNonce === true,
    maxAgeMs: Math.min(
      base.maxAgeMs,
      route.maxAgeSeconds === undefined ? Infinity : route.maxAgeSeconds * 1000,
    ),
    label: route.label ?? base.label,
    tag: route.tag ?? base.tag,
  };
}

/**
 * The minimum every RFC 9421 signature must cover, whatever the configuration:
 * the method, the authority, the whole target (path and, when there is one,
 * query), and a time; plus a digest whenever there is a body. Without these, a
 * signature could be replayed against another method, host, path or query.
 */
export function checkRfc9421Coverage(
  covered: ReadonlySet<string>,
  hasQuery: boolean,
  hasCreated: boolean,
  policy: SignaturePolicy,
): void {
  const missing: string[] = [];
  const targetUri = covered.has('@target-uri');
  if (!covered.has('@method')) missing.push('@method');
  if (!targetUri && !covered.has('@authority') && !covered.has('host')) missing.push('@authority');
  const target =
    targetUri ||
    covered.has('@request-target') ||
    (covered.has('@path') && (!hasQuery || covered.has('@query')));
  if (!target) missing.push(hasQuery ? '@path and @query' : '@path');
  if (!hasCreated && !covered.has('date')) missing.push('created or date');
  for (const c of policy.requiredComponents) if (!covered.has(c)) missing.push(c);
  if (missing.length > 0)
    throw authError('SIGNATURE_COVERAGE_INSUFFICIENT', `not covered: ${missing.join(', ')}`);
}

/** The Cavage counterpart: (request-target), host, and Date or (created). */
export function checkCavageCoverage(covered: ReadonlySet<string>, policy: SignaturePolicy): void {
  const missing: string[] = [];
  if (!covered.has('(request-target)')) missing.push('(request-target)');
  if (!covered.has('host')) missing.push('host');
  if (!covered.has('date') && !covered.has('(created)')) missing.push('date or (created)');
  for (const c of policy.requiredComponents) if (!covered.has(c)) missing.push(c);
  if (missing.length > 0)
    throw authError('SIGNATURE_COVERAGE_INSUFFICIENT', `not covered: ${missing.join(', ')}`);
}
