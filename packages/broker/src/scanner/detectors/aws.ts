import type { DetectorFamily, DetectorMatch } from '../detector.ts';
import { matchesOf } from '../detector.ts';
import { looksRandom } from '../entropy.ts';

// AKIA = long-term access key of an IAM user. ASIA keys are temporary STS credentials of a role
// session (hours at most) and are not flagged: they are not a standing credential someone lent out.
const KEY_ID = /(?<![A-Za-z0-9])AKIA([A-Z0-9]{16})(?![A-Za-z0-9])/g;
// The 40-char secret access key (base64 alphabet), looked for within NEARBY_LINES of the key id.
const SECRET_KEY = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const NEARBY_LINES = 5;

/** The text from NEARBY_LINES lines before `index` to NEARBY_LINES lines after it. */
function around(text: string, index: number): string {
  let start = index;
  for (let n = 0; n <= NEARBY_LINES && start > 0; n++) start = Math.max(0, text.lastIndexOf('\n', start - 1));
  let end = index;
  for (let n = 0; n <= NEARBY_LINES && end < text.length; n++) {
    const next = text.indexOf('\n', end + 1);
    end = next < 0 ? text.length : next;
  }
  return text.slice(start, end);
}

/** A secret key: base64 alphabet with mixed classes; hex digests and placeholders fail the entropy check. */
function hasSecretNearby(text: string, index: number): boolean {
  for (const m of matchesOf(SECRET_KEY, around(text, index))) if (looksRandom(m[0], 4.3)) return true;
  return false;
}

function detect(text: string): DetectorMatch[] {
  const found: DetectorMatch[] = [];
  for (const m of matchesOf(KEY_ID, text)) {
    if (!looksRandom(m[1]!, 3)) continue; // AKIAIOSFODNN7EXAMPLE and friends
    const paired = hasSecretNearby(text, m.index);
    found.push({
      kind: 'aws_access_key', service: 'https://sts.amazonaws.com', index: m.index, secret: m[0], ownerGuess: null,
      reason: paired
        ? 'An AWS access key id (AKIA) with its secret access key nearby: a long-term IAM user credential that signs requests as that user.'
        : 'An AWS access key id (AKIA) names a long-term IAM user credential; its secret key was not seen within 5 lines but is usually stored beside it.',
    });
  }
  return found;
}

export const aws: DetectorFamily = { id: 'aws', kinds: ['aws_access_key'], anchors: ['AKIA'], detect };
