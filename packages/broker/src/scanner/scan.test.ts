import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  assert.deepEqual((await scan([dir])).findings.map((f) => f.ownerGuess), [null, null], 'git is not asked by default');
  const report = await scan([dir], { gitOwner: true });
  assert.deepEqual(report.findings.map((f) => [f.file, f.ownerGuess]), [['agent/.env', 'erin@acme.example'], ['untracked.env', null]]);
});

/**
 * A hostile repository: `log.showSignature` with a `gpg.program` that leaves a marker, and a
 * commit carrying a signature so that a plain `git log` runs the program.
 */
function hostileRepo(name: string): { dir: string; marker: string } {
  const dir = tree(name, { 'sub/.env': `T=${githubToken('ghp_')}\n` });
  const marker = join(root, `${name}.pwned`);
  const evil = join(root, `${name}-gpg.sh`);
  writeFileSync(evil, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`);
  chmodSync(evil, 0o755);
  const git = (args: string[], input?: string) =>
    execFileSync('git', ['-c', 'user.name=Mallory', '-c', 'user.email=mallory@acme.example', ...args], { cwd: dir, input, encoding: 'utf8', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'ignore'] }).trim();
  git(['init', '-q']);
  git(['add', 'sub/.env']);
  git(['commit', '-q', '-m', 'add config']);
  const tree_ = git(['rev-parse', 'HEAD^{tree}']);
  const signed = `tree ${tree_}\nauthor Mallory <mallory@acme.example> 1700000000 +0000\ncommitter Mallory <mallory@acme.example> 1700000000 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned\n`;
  git(['update-ref', 'HEAD', git(['hash-object', '-t', 'commit', '-w', '--stdin'], signed)]);
  git(['config', 'log.showSignature', 'true']);
  git(['config', 'gpg.program', evil]);
  return { dir, marker };
}

test('a hostile repository config runs nothing: git is off by default, and hardened when on', async () => {
  const proof = hostileRepo('hostile-proof');
  execFileSync('git', ['log', '-1', '--format=%ae', '--', 'sub/.env'], { cwd: proof.dir, stdio: 'ignore', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
  assert.ok(existsSync(proof.marker), 'the fixture is hostile: a plain git log runs its gpg.program');

  const { dir, marker } = hostileRepo('hostile');
  assert.deepEqual((await scan([dir])).findings.map((f) => f.ownerGuess), [null]);
  assert.equal(existsSync(marker), false, 'the default scan ran git');
  assert.deepEqual((await scan([dir], { gitOwner: true })).findings.map((f) => f.ownerGuess), ['mallory@acme.example']);
  assert.equal(existsSync(marker), false, 'the hardened git log ran gpg.program');
});

test('with --git-owner, a .git above the scan root, or a .git file, is never used', async () => {
  const { dir, marker } = hostileRepo('above-root');
  const report = await scan([join(dir, 'sub')], { gitOwner: true });
  assert.deepEqual(report.findings.map((f) => [f.file, f.ownerGuess]), [['.env', null]]);
  const single = await scan([join(dir, 'sub', '.env')], { gitOwner: true });
  assert.deepEqual(single.findings.map((f) => f.ownerGuess), [null]);
  const pointer = tree('gitdir-file', { '.git': `gitdir: ${join(dir, '.git')}\n`, 'sub/.env': `T=${githubToken('ghp_')}\n` });
  assert.deepEqual((await scan([pointer], { gitOwner: true })).findings.map((f) => f.ownerGuess), [null]);
  assert.equal(existsSync(marker), false);
});

test('the environment: file env:<NAME>, line 0', () => {
  const findings = scanEnvironment({ PATH: '/usr/bin', GH: githubToken('ghp_'), EMPTY: '' });
  assert.deepEqual(findings.map((f) => [f.kind, f.file, f.line]), [['github_classic_pat', 'env:GH', 0]]);
});
