import type { DetectorFamily, DetectorMatch } from '../detector.ts';
import { matchesOf } from '../detector.ts';
import { looksRandom } from '../entropy.ts';

// Console API keys: `sk-ant-api03-` + 93 base64url chars + `AA` (108 chars). A few chars of slack
// either way are accepted in case the length changes; the trailing `AA` is kept as a format check.
const KEY = /(?<![A-Za-z0-9_-])sk-ant-api03-([A-Za-z0-9_-]{86,100})AA(?![A-Za-z0-9_-])/g;

function detect(text: string): DetectorMatch[] {
  const found: DetectorMatch[] = [];
  for (const m of matchesOf(KEY, text)) {
    if (!looksRandom(m[1]!, 4.5)) continue;
    found.push({
      kind: 'anthropic_api_key', service: 'https://api.anthropic.com', index: m.index, secret: m[0], ownerGuess: null,
      reason: 'An Anthropic API key (sk-ant-api03-) is created by a console user; an agent using it is billed and audited as that person\'s key, not as a workload of its own.',
    });
  }
  return found;
}

export const anthropic: DetectorFamily = { id: 'anthropic', kinds: ['anthropic_api_key'], anchors: ['sk-ant-api03-'], detect };
