#!/usr/bin/env node
// CI smoke test of the benchmark pipeline: runs `npm run bench -- --quick` and checks that the
// result file is well formed (every ratio key present and finite, every figure with its runs, the
// correctness checks recorded, no non-2xx). It never checks a timing threshold.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const results = join(root, 'bench/results');
const before = new Set(readdirSync(results));
const run = spawnSync('npm', ['run', 'bench', '--', '--quick'], { cwd: root, stdio: 'inherit' });
if (run.status !== 0) fail(`npm run bench -- --quick exited with ${run.status}`);

const created = readdirSync(results).filter((f) => !before.has(f) && f.endsWith('-quick.json'));
if (created.length !== 1) fail(`expected one new quick result file, found ${created.length}`);
const file = join(results, created[0]);
const result = JSON.parse(readFileSync(file, 'utf8'));
const problems = [];
for (const key of ['P1', 'P2', 'P3', 'P4', 'P5', 'P6a', 'P6b'])
  if (!Number.isFinite(result.ratios?.[key]) || result.ratios[key] <= 0) problems.push(`ratios.${key} is ${result.ratios?.[key]}`);
for (const [name, figure] of Object.entries(result.figures ?? {})) {
  if (!Array.isArray(figure.runs) || figure.runs.length !== result.plan.runs) problems.push(`figures.${name} has no ${result.plan.runs} runs`);
  if (!Number.isFinite(figure.median) || !Number.isFinite(figure.spread?.relative)) problems.push(`figures.${name} has no median or spread`);
  if (figure.nonOk !== undefined && figure.nonOk !== 0) problems.push(`figures.${name} had ${figure.nonOk} non-2xx responses`);
}
for (const name of ['attested_http_mint', 'autonomous_http_mint', 'oidc_provider_cc_dpop', 'sdk_verifier_full_request', 'attestor_tpm_quote'])
  if (!result.figures?.[name]) problems.push(`figures.${name} is missing`);
for (const [name, check] of Object.entries(result.correctness ?? {}))
  if (check.first !== 200 || !(check.replay >= 400) || !(check.proofReplay >= 400)) problems.push(`correctness.${name}: first ${check.first}, replay ${check.replay}, proof replay ${check.proofReplay}`);
if (Object.keys(result.correctness ?? {}).length < 3) problems.push('correctness checks missing');
rmSync(file);
if (problems.length > 0) fail(problems.join('\n'));
console.log(`bench smoke: ${created[0]} well formed (${Object.keys(result.figures).length} figures, ratios ${Object.keys(result.ratios).join(', ')})`);

function fail(message) {
  console.error(`bench smoke: ${message}`);
  process.exit(1);
}
