import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CREDENTIAL_KINDS, type ScanFinding } from '../core/finding.ts';
import { formatJson } from './format-json.ts';
import { formatSarif } from './format-sarif.ts';
import { formatTable } from './format-table.ts';
import type { ScanReport } from './index.ts';

const fileFinding: ScanFinding = {
  kind: 'gitlab_pat', service: 'https://gitlab.com/api/v4', file: 'ci/.gitlab-ci.yml', line: 12,
  fingerprint: 'sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', ownerGuess: 'erin@acme.example', reason: 'A GitLab PAT acts as one user.',
};
const envFinding: ScanFinding = {
  kind: 'openai_api_key', service: 'https://api.openai.com', file: 'env:OPENAI_API_KEY', line: 0,
  fingerprint: 'sha256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', ownerGuess: null, reason: 'An OpenAI user key acts as a person.',
};
const report: ScanReport = { findings: [fileFinding, envFinding], filesScanned: 40, filesSkipped: 2 };

test('table: one row per finding, reasons once, a summary', () => {
  const text = formatTable(report);
  assert.match(text, /^KIND +LOCATION +OWNER +FINGERPRINT$/m);
  assert.match(text, /^gitlab_pat +ci\/\.gitlab-ci\.yml:12 +erin@acme\.example +sha256:A{43}$/m);
  assert.match(text, /^openai_api_key +env:OPENAI_API_KEY +- +sha256:B{43}$/m);
  assert.match(text, /^ {2}gitlab_pat: A GitLab PAT acts as one user\.$/m);
  assert.match(text, /^2 finding\(s\) in 40 file\(s\) scanned, 2 skipped$/m);
  assert.match(formatTable({ findings: [], filesScanned: 3, filesSkipped: 0 }), /^No borrowed human credentials found\.$/m);
});

test('json: snake_case, as the admin API takes it', () => {
  const body = JSON.parse(formatJson(report)) as Record<string, unknown>;
  assert.deepEqual(body, {
    findings: [
      { kind: 'gitlab_pat', service: 'https://gitlab.com/api/v4', file: 'ci/.gitlab-ci.yml', line: 12, fingerprint: fileFinding.fingerprint, owner_guess: 'erin@acme.example', reason: fileFinding.reason },
      { kind: 'openai_api_key', service: 'https://api.openai.com', file: 'env:OPENAI_API_KEY', line: 0, fingerprint: envFinding.fingerprint, owner_guess: null, reason: envFinding.reason },
    ],
    files_scanned: 40,
    files_skipped: 2,
  });
});

type Sarif = { version: string; $schema: string; runs: Array<{ tool: { driver: { name: string; version: string; rules: Array<{ id: string; shortDescription: { text: string }; defaultConfiguration: { level: string } }> } }; results: Array<Record<string, any>> }> };

test('sarif: 2.1.0 with one rule per kind, locations and partialFingerprints', () => {
  const log = JSON.parse(formatSarif(report, '9.9.9')) as Sarif;
  assert.equal(log.version, '2.1.0');
  assert.equal(log.$schema, 'https://json.schemastore.org/sarif-2.1.0.json');
  const [run] = log.runs;
  assert.equal(run!.tool.driver.name, 'mandate-scan');
  assert.equal(run!.tool.driver.version, '9.9.9');
  assert.deepEqual(run!.tool.driver.rules.map((r) => r.id), [...CREDENTIAL_KINDS]);
  for (const rule of run!.tool.driver.rules) assert.ok(rule.shortDescription.text.length > 10 && rule.defaultConfiguration.level === 'error');
  const [inFile, inEnv] = run!.results;
  assert.equal(inFile!.ruleId, 'gitlab_pat');
  assert.equal(run!.tool.driver.rules[inFile!.ruleIndex as number]!.id, 'gitlab_pat');
  assert.deepEqual(inFile!.locations, [{ physicalLocation: { artifactLocation: { uri: 'ci/.gitlab-ci.yml', uriBaseId: '%SRCROOT%' }, region: { startLine: 12 } } }]);
  assert.deepEqual(inFile!.partialFingerprints, { 'secretFingerprint/v1': fileFinding.fingerprint });
  assert.equal(inFile!.message.text, 'A GitLab PAT acts as one user. Likely owner: erin@acme.example.');
  assert.deepEqual(inEnv!.locations, [{ logicalLocations: [{ name: 'OPENAI_API_KEY', kind: 'variable' }] }]);
});

test('sarif: file names are URI-encoded', () => {
  const log = JSON.parse(formatSarif({ ...report, findings: [{ ...fileFinding, file: 'my dir/a#b.env' }] }, '1')) as Sarif;
  assert.equal(log.runs[0]!.results[0]!.locations[0].physicalLocation.artifactLocation.uri, 'my%20dir/a%23b.env');
});
