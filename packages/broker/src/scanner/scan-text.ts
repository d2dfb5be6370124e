import type { CredentialKind } from '../core/finding.ts';
import type { DetectorFamily } from './detector.ts';
import { fingerprintOf } from './fingerprint.ts';
import { DETECTOR_FAMILIES } from './registry.ts';

/** A finding inside one text: everything but the file name. The secret is already hashed. */
export interface TextFinding {
  kind: CredentialKind;
  service: string;
  line: number;
  fingerprint: string;
  ownerGuess: string | null;
  reason: string;
}

const escape = (literal: string) => literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** Any anchor of any family: one pass over a text that holds none (most texts) settles it. */
const ANY_ANCHOR = new RegExp(DETECTOR_FAMILIES.flatMap((f) => f.anchors).map(escape).join('|'));

/** Runs each family whose anchor occurs in the text; one finding per secret and line. */
export function findInText(text: string, families: readonly DetectorFamily[] = DETECTOR_FAMILIES): TextFinding[] {
  if (families === DETECTOR_FAMILIES && !ANY_ANCHOR.test(text)) return [];
  const matches = families.filter((f) => f.anchors.some((a) => text.includes(a))).flatMap((f) => f.detect(text));
  matches.sort((a, b) => a.index - b.index);
  const findings: TextFinding[] = [];
  const seen = new Set<string>();
  let line = 1;
  let at = 0;
  for (const { index, secret, ...rest } of matches) {
    for (let nl = text.indexOf('\n', at); nl !== -1 && nl < index; nl = text.indexOf('\n', nl + 1)) line++;
    at = index;
    const fingerprint = fingerprintOf(secret);
    if (seen.has(`${fingerprint}:${line}`)) continue;
    seen.add(`${fingerprint}:${line}`);
    findings.push({ kind: rest.kind, service: rest.service, line, fingerprint, ownerGuess: rest.ownerGuess, reason: rest.reason });
  }
  return findings;
}
