import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { scan } from '../src/scanner/index.ts';
import { fingerprint, githubToken, signedJwt } from './support/secret-corpus.ts';

/**
 * Scanner speed on a generated tree of 100 000 text files (source, configs, lockfiles, docs with
 * placeholders and non-human JWTs, so the detectors do run), one in 1000 holding a real PAT.
 * Must finish within 60 s; the figure is printed as a TAP diagnostic. The tree is deleted after.
 * It is written to tmpfs (/dev/shm) when there is one: creating and deleting 100 000 files on a
 * busy disk takes minutes, while reading them back is served from the page cache either way.
 */
const FILES = 100_000;
const PER_DIR = 500;
const LIMIT_MS = 60_000;

const filler = (n: number) => Array.from({ length: n }, (_, i) => `export function step${i}(input: string): string {\n  return input.trim().toLowerCase(); // ${'x'.repeat(i % 40)}\n}\n`).join('');
const TEMPLATES = [
  { ext: 'ts', text: filler(12) },
  { ext: 'json', text: JSON.stringify({ name: 'agent', dependencies: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`pkg-${i}`, `^${i}.0.0`])) }, null, 2) },
  { ext: 'yml', text: 'jobs:\n  test:\n    env:\n      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n      OPENAI_API_KEY: sk-...\n'.repeat(10) },
  { ext: 'md', text: '# Setup\nSet `GITHUB_TOKEN=ghp_...` and `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE`.\n'.repeat(15) },
  { ext: 'env', text: `LOG_LEVEL=info\nSVID=${signedJwt({ sub: 'spiffe://acme.example/agent', aud: 'https://api.acme.example' })}\n` },
  { ext: 'lock', text: Array.from({ length: 20 }, (_, i) => `"node_modules/p${i}": { "integrity": "sha512-${Buffer.alloc(64, i).toString('base64')}" }`).join('\n') },
];

function scratchBase(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

let root: string;
const planted: string[] = [];

before(() => {
  root = mkdtempSync(join(scratchBase(), 'mandate-speed-'));
  for (let d = 0; d < FILES / PER_DIR; d++) {
    const dir = join(root, `pkg-${d}`, 'src');
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_DIR; f++) {
      const n = d * PER_DIR + f;
      const template = TEMPLATES[n % TEMPLATES.length]!;
      let text = template.text;
      if (n % 1000 === 999) {
        planted.push(githubToken('ghp_'));
        text = `${text}\nGITHUB_TOKEN=${planted[planted.length - 1]}\n`;
      }
      writeFileSync(join(dir, `file-${f}.${template.ext}`), text);
    }
  }
});
after(() => rmSync(root, { recursive: true, force: true }));

test(`scans ${FILES} files within ${LIMIT_MS / 1000} s`, async (t) => {
  let progressCalls = 0;
  const started = performance.now();
  const report = await scan([root], { gitOwner: false, onProgress: () => void progressCalls++ });
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`scanner speed (tree in ${root}): ${report.filesScanned} files in ${seconds.toFixed(1)} s (${Math.round(report.filesScanned / seconds)} files/s), ${report.findings.length} findings`);
  assert.equal(report.filesScanned, FILES);
  assert.deepEqual(report.findings.map((f) => f.fingerprint).sort(), planted.map(fingerprint).sort());
  assert.ok(progressCalls >= FILES / 1000 - 1, 'progress was reported');
  assert.ok(seconds * 1000 <= LIMIT_MS, `${seconds.toFixed(1)} s`);
});
