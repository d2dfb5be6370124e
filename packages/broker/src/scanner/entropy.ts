/**
 * Format checks alone let placeholders through (`ghp_XXXX…`, `AKIA…EXAMPLE`, `sk-…your-key-here`);
 * these two checks reject them. Thresholds sit well below what random tokens of the same alphabet
 * and length reach (a random 30-char base62 string has ~4.6 bits/char), so recall is not traded away.
 */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

const PLACEHOLDER_WORDS = /example|placeholder|your[-_ ]|redacted|changeme|change_me|dummy|sample|fake[-_]|token|secret|insert|replace/i;

/** Runs of one character (`aaaaa`) or ascending sequences (`abcde`, `12345`) of 5 or more. */
function hasRun(text: string): boolean {
  let same = 1;
  let ascending = 1;
  for (let i = 1; i < text.length; i++) {
    same = text[i] === text[i - 1] ? same + 1 : 1;
    ascending = text.charCodeAt(i) === text.charCodeAt(i - 1) + 1 ? ascending + 1 : 1;
    if (same >= 5 || ascending >= 5) return true;
  }
  return false;
}

export function looksLikePlaceholder(text: string): boolean {
  return PLACEHOLDER_WORDS.test(text) || hasRun(text);
}

/** The random part of a token: high enough entropy and no placeholder pattern. */
export function looksRandom(text: string, minBitsPerChar: number): boolean {
  return shannonEntropy(text) >= minBitsPerChar && !looksLikePlaceholder(text);
}
