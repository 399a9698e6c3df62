import type { SignaturePolicyOverride } from './signature-policy';

/**
 * Whether two @RequireSignature() policies ask the same: the same object, or the same
 * settings (two resolvers each with `@RequireSignature({})` hold two equal objects).
 */
export function samePolicy(
  a: SignaturePolicyOverride | undefined,
  b: SignaturePolicyOverride | undefined,
): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}
