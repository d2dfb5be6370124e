import type { DetectorFamily, DetectorMatch } from '../detector.ts';
import { matchesOf } from '../detector.ts';
import { looksRandom } from '../entropy.ts';

// OpenAI secret keys carry `T3BlbkFJ` (base64 of "OpenAI") in the middle. User keys: legacy `sk-`
// and project keys `sk-proj-` (created by, and tied to, a person), `sk-None-` (user keys without a
// project). Service-account keys `sk-svcacct-` and admin keys `sk-admin-` are not a person's key.
const KEY = /(?<![A-Za-z0-9_-])sk-((?:proj|None|svcacct|admin)-)?([A-Za-z0-9_-]{20,200})T3BlbkFJ([A-Za-z0-9_-]{20,200})(?![A-Za-z0-9_-])/g;

function detect(text: string): DetectorMatch[] {
  const found: DetectorMatch[] = [];
  for (const m of matchesOf(KEY, text)) {
    const prefix = m[1] ?? '';
    if (prefix === 'svcacct-' || prefix === 'admin-') continue;
    if (m[2]!.startsWith('ant-') || !looksRandom(m[2]! + m[3]!, 4)) continue;
    found.push({
      kind: 'openai_api_key', service: 'https://api.openai.com', index: m.index, secret: m[0], ownerGuess: null,
      reason: `An OpenAI ${prefix === 'proj-' ? 'project' : 'user'} API key (sk-${prefix}) is created by a person and acts, and is billed, as that person's key; service-account keys (sk-svcacct-) are not flagged.`,
    });
  }
  return found;
}

export const openai: DetectorFamily = { id: 'openai', kinds: ['openai_api_key'], anchors: ['T3BlbkFJ'], detect };
