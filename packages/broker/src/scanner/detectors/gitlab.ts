import type { DetectorFamily, DetectorMatch } from '../detector.ts';
import { matchesOf } from '../detector.ts';
import { looksRandom } from '../entropy.ts';

// Two shapes are accepted (docs/scanner.md): the classic `glpat-` + 20 chars of [0-9A-Za-z_-]
// (GitLab 14.5+), and the newer routable form `glpat-<payload>.<2-char version>.<7–9 base36 chars>`.
// The routable checksum is not verified (its layout is not a published standard); entropy is.
const PAT = /(?<![A-Za-z0-9_-])glpat-([A-Za-z0-9_-]{27,300}\.[0-9a-z]{2}\.[0-9a-z]{7,9}|[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-]|\.[0-9a-z])/g;

function detect(text: string): DetectorMatch[] {
  const found: DetectorMatch[] = [];
  for (const m of matchesOf(PAT, text)) {
    const body = m[1]!.split('.')[0]!;
    if (!looksRandom(body, body.length > 20 ? 4 : 3.3)) continue;
    found.push({
      kind: 'gitlab_pat', service: 'https://gitlab.com/api/v4', index: m.index, secret: m[0], ownerGuess: null,
      reason: 'A GitLab personal access token (glpat-) belongs to one GitLab user and acts with that user\'s access to every group and project in its scopes.',
    });
  }
  return found;
}

export const gitlab: DetectorFamily = { id: 'gitlab', kinds: ['gitlab_pat'], anchors: ['glpat-'], detect };
