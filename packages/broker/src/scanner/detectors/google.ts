import type { DetectorFamily, DetectorMatch } from '../detector.ts';
import { matchesOf } from '../detector.ts';
import { looksRandom } from '../entropy.ts';

const SERVICE = 'https://www.googleapis.com';
// Refresh tokens issued by Google's OAuth server start with `1//0` (about 100 chars in all).
const REFRESH = /(?<![A-Za-z0-9_/-])1\/\/0([A-Za-z0-9_-]{35,})(?![A-Za-z0-9_-])/g;
// Client secrets created since 2021 start with `GOCSPX-` + 28 chars.
const CLIENT_SECRET = /(?<![A-Za-z0-9_-])GOCSPX-([A-Za-z0-9_-]{28})(?![A-Za-z0-9_-])/g;

function detect(text: string): DetectorMatch[] {
  const found: DetectorMatch[] = [];
  for (const m of matchesOf(REFRESH, text)) {
    if (!looksRandom(m[1]!, 4)) continue;
    found.push({
      kind: 'google_refresh_token', service: SERVICE, index: m.index, secret: m[0], ownerGuess: null,
      reason: 'A Google OAuth refresh token (1//0…) was granted by a person\'s consent and mints access tokens as that person until it is revoked.',
    });
  }
  for (const m of matchesOf(CLIENT_SECRET, text)) {
    if (!looksRandom(m[1]!, 3.5)) continue;
    found.push({
      kind: 'google_client_secret', service: SERVICE, index: m.index, secret: m[0], ownerGuess: null,
      reason: 'A Google OAuth client secret (GOCSPX-) in an agent\'s files is used to run or refresh a person\'s consent for that client, so the agent acts as the person rather than as a workload.',
    });
  }
  return found;
}

export const google: DetectorFamily = { id: 'google', kinds: ['google_refresh_token', 'google_client_secret'], anchors: ['1//0', 'GOCSPX-'], detect };
