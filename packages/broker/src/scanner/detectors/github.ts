import type { DetectorFamily, DetectorMatch } from '../detector.ts';
import { matchesOf } from '../detector.ts';
import { looksRandom } from '../entropy.ts';
import { crc32 } from './crc32.ts';

const SERVICE = 'https://api.github.com';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// GitHub token format (2021): prefix + 30 random base62 chars + CRC32 of those 30 chars in base62,
// left-padded with '0' to 6 chars. ghs_/ghr_ (app installation, refresh) are not a person's PAT.
const CLASSIC = /(?<![A-Za-z0-9_])ghp_([A-Za-z0-9]{30})([A-Za-z0-9]{6})(?![A-Za-z0-9_])/g;
// Fine-grained: github_pat_ + 22 base62 (token id part) + '_' + 59 base62; no public checksum.
const FINE_GRAINED = /(?<![A-Za-z0-9_])github_pat_([A-Za-z0-9]{22})_([A-Za-z0-9]{59})(?![A-Za-z0-9_])/g;

/** The 6-char checksum GitHub appends to the 30 random chars of a token. */
export function githubChecksum(random: string): string {
  let value = crc32(Buffer.from(random, 'latin1'));
  let text = '';
  while (value > 0) {
    text = BASE62[value % 62]! + text;
    value = Math.floor(value / 62);
  }
  return text.padStart(6, '0');
}

function detect(text: string): DetectorMatch[] {
  const found: DetectorMatch[] = [];
  for (const m of matchesOf(CLASSIC, text)) {
    if (githubChecksum(m[1]!) !== m[2]) continue; // a wrong checksum: a made-up or mistyped string
    found.push({
      kind: 'github_classic_pat', service: SERVICE, index: m.index, secret: m[0], ownerGuess: null,
      reason: 'A classic GitHub personal access token (ghp_, checksum valid) acts as the person who created it, with their access to every repository and organisation in its scopes.',
    });
  }
  for (const m of matchesOf(FINE_GRAINED, text)) {
    if (!looksRandom(m[2]!, 4)) continue;
    found.push({
      kind: 'github_fine_grained_pat', service: SERVICE, index: m.index, secret: m[0], ownerGuess: null,
      reason: 'A fine-grained GitHub personal access token (github_pat_) is issued to one GitHub user and acts as that user on the repositories they selected.',
    });
  }
  return found;
}

export const github: DetectorFamily = { id: 'github', kinds: ['github_classic_pat', 'github_fine_grained_pat'], anchors: ['ghp_', 'github_pat_'], detect };
