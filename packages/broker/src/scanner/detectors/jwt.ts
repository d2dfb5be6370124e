import { printable } from '../printable.ts';
import type { DetectorFamily, DetectorMatch } from '../detector.ts';
import { matchesOf } from '../detector.ts';
import { humanSubjectOf } from './jwt-subject.ts';

// A compact JWS whose header and payload are JSON objects (so both start with `eyJ`, i.e. `{"`).
const JWS = /(?<![A-Za-z0-9_.-])eyJ[A-Za-z0-9_-]{8,}\.(eyJ[A-Za-z0-9_-]{8,})\.[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_.-])/g;

function decodePart(part: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const isUrl = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= 200 && /^https?:\/\/[^\s]+$/.test(value) && URL.canParse(value);

/** The API the token is for: its audience when that is a URL, else its issuer, else a reserved unknown (RFC 2606). */
function serviceOf(claims: Record<string, unknown>): string {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const service = audiences.find(isUrl) ?? (isUrl(claims.iss) ? claims.iss : 'https://unknown.invalid');
  return printable(service);
}

function detect(text: string): DetectorMatch[] {
  const found: DetectorMatch[] = [];
  for (const m of matchesOf(JWS, text)) {
    const header = decodePart(m[0].slice(0, m[0].indexOf('.')));
    const claims = decodePart(m[1]!);
    // An unsecured JWT (alg none) authenticates nobody: not a credential.
    if (!header || !claims || typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') continue;
    const human = humanSubjectOf(claims);
    if (!human) continue;
    const service = serviceOf(claims);
    found.push({
      kind: 'human_jwt', service, index: m.index, secret: m[0], ownerGuess: human.ownerGuess,
      reason: `A JWT whose subject is a person (${human.because}) lets the agent call ${service} as that person; it was decoded, not verified.`,
    });
  }
  return found;
}

export const jwt: DetectorFamily = { id: 'jwt', kinds: ['human_jwt'], anchors: ['eyJ'], detect };
