import type { DetectorFamily, DetectorMatch } from '../detector.ts';
import { matchesOf } from '../detector.ts';
import { looksRandom } from '../entropy.ts';

// User tokens: xoxp-<team>-<user>-<id>-<32 hex>, and `xoxe.xoxp-1-…` when token rotation is on.
// Bot tokens (xoxb-), app-level tokens (xapp-) and workflow tokens are the app's own identity: not flagged.
const USER_TOKEN = /(?<![A-Za-z0-9.-])(?:xoxe\.xoxp-1-[A-Za-z0-9_-]{60,250}|xoxp-(\d{6,15})-(\d{6,15})-(\d{6,15})-([a-f0-9]{32}))(?![A-Za-z0-9_-])/g;

function detect(text: string): DetectorMatch[] {
  const found: DetectorMatch[] = [];
  for (const m of matchesOf(USER_TOKEN, text)) {
    const random = m[4] ?? m[0].slice('xoxe.xoxp-1-'.length);
    if (!looksRandom(random, 3)) continue;
    found.push({
      kind: 'slack_user_token', service: 'https://slack.com/api', index: m.index, secret: m[0], ownerGuess: null,
      reason: 'A Slack user token (xoxp-) acts as the person who authorised the app: it reads and posts with that person\'s access, unlike a bot token (xoxb-).',
    });
  }
  return found;
}

export const slack: DetectorFamily = { id: 'slack', kinds: ['slack_user_token'], anchors: ['xoxp-'], detect };
