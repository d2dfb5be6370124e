import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { githubToken } from '../../test/support/secret-corpus.ts';
import { PROGRESS_EVERY, scan, scanEnvironment, type ScanProgress } from './index.ts';
import { MAX_FILE_BYTES } from './walker.ts';

const root = mkdtempSync(join(tmpdir(), 'mandate-scan-'));
after(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

test('node_modules, .git, binaries and files over 1 MiB are skipped', async () => {
  const token = githubToken('ghp_');
  const dir = tree('skips', {
    'agent/.env': `T=${token}\n`,
    'node_modules/x/.env': `T=${token}\n`,
    '.git/config': `T=${token}\n`,
    'blob.dat': Buffer.concat([Buffer.from(`T=${token}\n`), Buffer.from([0, 1, 2])]),
    'big.txt': `T=${token}\n${'x'.repeat(MAX_FILE_BYTES)}`,
    'image.png': `T=${token}\n`,
  });
  const report = await scan([dir], { gitOwner: false });
  assert.deepEqual(report.findings.map((f) => `${f.file}:${f.line}`), ['agent/.env:1']);
  assert.equal(report.filesScanned, 1);
  assert.equal(report.filesSkipped, 3, 'the binary, the big file and the .png');
});

test('symlink loops end, and a linked file is scanned', async () => {
  const dir = tree('links', { 'a/config.env': `T=${githubToken('ghp_')}\n` });
  symlinkSync(join(dir, 'a'), join(dir, 'a', 'loop'));
  symlinkSync(dir, join(dir, 'a', 'up'));
  symlinkSync(join(dir, 'a', 'config.env'), join(dir, 'linked.env'));
  symlinkSync(join(dir, 'missing'), join(dir, 'dangling'));
  const report = await scan([dir], { gitOwner: false });
  assert.deepEqual(report.findings.map((f) => f.file).sort(), ['a/config.env', 'linked.env']);
});

test('a FIFO is never opened', async () => {
  const dir = tree('fifo', { 'ok.txt': 'nothing here\n' });
  execFileSync('mkfifo', [join(dir, 'pipe')]);
  const report = await scan([dir], { gitOwner: false });
  assert.deepEqual([report.filesScanned, report.filesSkipped], [1, 1]);
  const named = await scan([join(dir, 'pipe')], { gitOwner: false });
  assert.deepEqual([named.filesScanned, named.filesSkipped], [0, 1]);
});

test('a file given as root is reported by its name', async () => {
  const dir = tree('single', { 'deploy.env': `\nT=${githubToken('ghp_')}\n` });
  const report = await scan([join(dir, 'deploy.env')], { gitOwner: false });
  assert.deepEqual(report.findings.map((f) => `${f.file}:${f.line}`), ['deploy.env:2']);
});

test('a missing root throws (the CLI turns it into a usage error)', async () => {
  await assert.rejects(scan([join(root, 'nope')]), { code: 'ENOENT' });
});

test('progress is reported every progressEvery files (default PROGRESS_EVERY), without paths', async () => {
  assert.equal(PROGRESS_EVERY, 1000);
  const files = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`f/${i % 7}/${i}.txt`, 'x\n']));
  const seen: ScanProgress[] = [];
  await scan([tree('many', files)], { onProgress: (p) => seen.push(p), progressEvery: 10, gitOwner: false });
  assert.deepEqual(seen.map((p) => p.filesScanned), [10, 20]);
  assert.deepEqual(Object.keys(seen[0]!).sort(), ['filesScanned', 'filesSkipped', 'findings']);
});

test('the owner guess is the last git author of the file', async () => {
  const dir = tree('repo', { 'agent/.env': `T=${githubToken('ghp_')}\n`, 'untracked.env': `T=${githubToken('ghp_')}\n` });
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Erin', '-c', 'user.email=erin@acme.example', ...args], { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  git('add', 'agent/.env');
  git('commit', '-q', '-m', 'add config');
  const report = await scan([dir]);
  assert.deepEqual(report.findings.map((f) => [f.file, f.ownerGuess]), [['agent/.env', 'erin@acme.example'], ['untracked.env', null]]);
});

test('the environment: file env:<NAME>, line 0', () => {
  const findings = scanEnvironment({ PATH: '/usr/bin', GH: githubToken('ghp_'), EMPTY: '' });
  assert.deepEqual(findings.map((f) => [f.kind, f.file, f.line]), [['github_classic_pat', 'env:GH', 0]]);
});
