import type { CredentialKind } from '../core/finding.ts';

/** One credential a detector recognised in a text. `secret` never leaves the scanner. */
export interface DetectorMatch {
  kind: CredentialKind;
  service: string;
  /** Offset of the secret in the text (for the line number). */
  index: number;
  /** Hashed into the fingerprint, then dropped: never printed, stored or logged. */
  secret: string;
  ownerGuess: string | null;
  reason: string;
}

/**
 * The shape every `detectors/<family>.ts` module has (like the attestors: one shape, one explicit
 * registry in `registry.ts`). `anchors` are literal strings one of which occurs in every secret the
 * family finds: texts without any of them are skipped without running a regular expression.
 */
export interface DetectorFamily {
  id: string;
  kinds: readonly CredentialKind[];
  anchors: readonly string[];
  detect(text: string): DetectorMatch[];
}

/** Every match of a global regular expression, with its groups. */
export function* matchesOf(pattern: RegExp, text: string): Generator<RegExpExecArray> {
  const re = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) yield m;
}
