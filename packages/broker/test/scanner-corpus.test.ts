import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CREDENTIAL_KINDS } from '../src/core/finding.ts';
import { scan, type ScanReport } from '../src/scanner/index.ts';
import { runCli, type CliRun } from './support/cli-runner.ts';
import { fingerprint, generateCorpus, type Corpus } from './support/secret-corpus.ts';

/**
 * The scanner against a corpus generated now (support/secret-corpus.ts): ≥ 10 true cases per kind
 * with valid formats and checksums (25 here, so one miss still leaves recall ≥ 0.95) and ≈ 300
 * false files. Recall ≥ 0.95 per kind, false-positive files ≤ 1 %, and no secret in any output.
 */
const PER_KIND = 25;
let dir: string;
let corpus: Corpus;
let report: ScanReport;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mandate-corpus-'));
  corpus = generateCorpus(dir, PER_KIND);
  report = await scan([dir], { gitOwner: false });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the corpus has ≥ 10 true cases per kind and ≥ 200 false files', () => {
  for (const kind of CREDENTIAL_KINDS) assert.ok(corpus.trueCases.filter((c) => c.kind === kind).length >= 10, kind);
  assert.ok(corpus.falseFiles.length >= 200, `${corpus.falseFiles.length} false files`);
  assert.equal(report.filesScanned, corpus.trueCases.length + corpus.falseFiles.length);
});

for (const kind of CREDENTIAL_KINDS) {
  test(`recall ≥ 0.95 for ${kind}: right file, line, kind and fingerprint`, () => {
    const cases = corpus.trueCases.filter((c) => c.kind === kind);
    const found = cases.filter((c) => report.findings.some((f) => f.file === c.file && f.line === c.line && f.kind === kind && f.fingerprint === fingerprint(c.secret)));
    const recall = found.length / cases.length;
    assert.ok(recall >= 0.95, `recall ${recall} for ${kind}`);
  });
}

test('false-positive files ≤ 1 %, and nothing beyond the true cases is reported', () => {
  const flagged = corpus.falseFiles.filter((file) => report.findings.some((f) => f.file === file));
  assert.ok(flagged.length / corpus.falseFiles.length <= 0.01, `false positives in ${flagged.join(', ')}`);
  const expected = new Set(corpus.trueCases.map((c) => `${c.file}:${c.line}`));
  const stray = report.findings.filter((f) => !expected.has(`${f.file}:${f.line}`) && !corpus.falseFiles.includes(f.file));
  assert.deepEqual(stray, []);
});

/** No secret, nor its random middle, in the text. */
function assertNoSecret(label: string, text: string): void {
  for (const secret of corpus.secrets) {
    assert.ok(!text.includes(secret), `${label} holds a secret`);
    const middle = secret.slice(secret.length / 2 - 12, secret.length / 2 + 12);
    if (secret.length >= 40) assert.ok(!text.includes(middle), `${label} holds part of a secret`);
  }
}

for (const format of ['table', 'json', 'sarif'] as const) {
  test(`no secret in the ${format} output or on stderr, with progress on`, async () => {
    const run: CliRun = await runCli(['scan', dir, '--format', format, '--no-git-owner']);
    assert.equal(run.exitCode, 0, run.err);
    assert.ok(run.out.includes(report.findings[0]!.fingerprint), 'the output lists the findings');
    assertNoSecret(`${format} stdout`, run.out);
    assertNoSecret(`${format} stderr`, run.err);
  });
}

test('no secret in the output of --env either', async () => {
  const env = Object.fromEntries(corpus.trueCases.filter((_, i) => i % PER_KIND === 0).map((c, i) => [`BORROWED_${i}`, c.secret]));
  const run = await runCli(['scan', '--env', '--format', 'json'], env);
  const found = (JSON.parse(run.out) as { findings: Array<{ file: string; kind: string }> }).findings.filter((f) => f.file.startsWith('env:BORROWED_'));
  assert.deepEqual(found.map((f) => f.kind).sort(), [...CREDENTIAL_KINDS].sort());
  assertNoSecret('--env stdout', run.out);
  assertNoSecret('--env stderr', run.err);
});
