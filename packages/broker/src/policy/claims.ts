import type { ClaimValue } from '../ports/attestor.ts';

/** `oidc-token.repository_id` → attestor `oidc-token`, claim `repository_id` (attestor ids hold no dots). */
export function parseClaimRef(ref: string): { attestor: string; claim: string } {
  const dot = ref.indexOf('.');
  return { attestor: ref.slice(0, dot), claim: ref.slice(dot + 1) };
}

/**
 * A claim meets a constraint when its value (any element, for a list claim) equals the expected
 * value or one of the expected values. Numbers and booleans compare by their JSON spelling, as
 * config values are strings.
 */
export function claimMatches(value: ClaimValue | undefined, expected: string | readonly string[]): boolean {
  const wanted: readonly string[] = typeof expected === 'string' ? [expected] : expected;
  return spellings(value).some((v) => wanted.includes(v));
}

/** Both present and the same value; lists must hold the same elements in the same order. */
export function claimsEqual(a: ClaimValue | undefined, b: ClaimValue | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return JSON.stringify(Array.isArray(a) ? a : String(a)) === JSON.stringify(Array.isArray(b) ? b : String(b));
}

function spellings(value: ClaimValue | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [String(value)];
}
