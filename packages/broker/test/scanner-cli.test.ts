import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from './support/app-fixture.ts';
import { runCli, unusedPort } from './support/cli-runner.ts';
import { fingerprint, githubToken, TRUE_SECRETS } from './support/secret-corpus.ts';

/** `mandate scan`: exit codes, and `--report` against a real broker whose database must not hold a secret. */
const dir = mkdtempSync(join(tmpdir(), 'mandate-scan-cli-'));
const clean = join(dir, 'clean');
const dirty = join(dir, 'dirty');
const secrets = [githubToken('ghp_'), TRUE_SECRETS.anthropic_api_key().secret, TRUE_SECRETS.human_jwt().secret];

before(() => {
  mkdirSync(clean);
  writeFileSync(join(clean, 'README.md'), 'Set OPENAI_API_KEY=sk-... in .env\n');
  mkdirSync(join(dirty, '.cursor'), { recursive: true });
  writeFileSync(join(dirty, '.env'), `GITHUB_TOKEN=${secrets[0]}\nANTHROPIC_API_KEY=${secrets[1]}\n`);
  writeFileSync(join(dirty, '.cursor', 'mcp.json'), `{\n  "mcpServers": { "x": { "env": { "ID_TOKEN": "${secrets[2]}" } } }\n}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('exit codes', () => {
  test('0 when nothing is found', async () => {
    const run = await runCli(['scan', clean]);
    assert.equal(run.exitCode, 0, run.err);
    assert.match(run.out, /^No borrowed human credentials found\.$/m);
  });

  test('0 with findings, 1 with findings and --fail-on-findings', async () => {
    assert.equal((await runCli(['scan', dirty, '--no-git-owner'])).exitCode, 0);
    const run = await runCli(['scan', dirty, '--fail-on-findings', '--format', 'json', '--no-git-owner']);
    assert.equal(run.exitCode, 1);
    assert.equal((JSON.parse(run.out) as { findings: unknown[] }).findings.length, 3);
  });

  test('git is asked for an owner only with --git-owner', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(join(repo, '.env'), `GITHUB_TOKEN=${secrets[0]}\n`);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Erin', '-c', 'user.email=erin@acme.example', ...args], { cwd: repo, stdio: 'ignore' });
    git('init', '-q');
    git('add', '.env');
    git('commit', '-q', '-m', 'config');
    const owners = async (...flags: string[]) =>
      (JSON.parse((await runCli(['scan', repo, '--format', 'json', ...flags])).out) as { findings: Array<{ owner_guess: string | null }> }).findings.map((f) => f.owner_guess);
    assert.deepEqual(await owners(), [null]);
    assert.deepEqual(await owners('--git-owner'), ['erin@acme.example']);
  });

  test('2 without a path or --env', async () => {
    const run = await runCli(['scan']);
    assert.equal(run.exitCode, 2);
    assert.equal(run.err, 'error: name at least one path to scan, or --env\n');
  });

  test('2 for a path that does not exist', async () => {
    const run = await runCli(['scan', join(dir, 'nope')]);
    assert.equal(run.exitCode, 2);
    assert.match(run.err, /^error: no such file or directory: /);
  });

  test('2 for an unknown format', async () => {
    const run = await runCli(['scan', clean, '--format', 'xml']);
    assert.equal(run.exitCode, 2);
    assert.equal(run.err, 'error: --format must be one of table, json, sarif, got xml\n');
  });

  test('2 for --report without an admin token, before scanning', async () => {
    const run = await runCli(['scan', dirty, '--report', '--data', join(dir, 'no-token')], { MANDATE_ADMIN_TOKEN: '' });
    assert.equal(run.exitCode, 2);
    assert.match(run.err, /^error: no admin token/);
    assert.equal(run.out, '');
  });

  test('1 for --report to a broker that is not there (ERR_CLI_UNREACHABLE), after printing the findings', async () => {
    const run = await runCli(['scan', dirty, '--report', '--no-git-owner', '--url', `http://127.0.0.1:${await unusedPort()}`], { MANDATE_ADMIN_TOKEN: 'mnd_x' });
    assert.equal(run.exitCode, 1);
    assert.match(run.out, /^3 finding\(s\)/m);
    assert.match(run.err, /^error: ERR_CLI_UNREACHABLE: cannot reach/m);
  });
});

describe('--report to the broker', () => {
  let t: TestApp;
  let url: string;
  before(async () => {
    t = await startTestApp();
    url = await t.app.http.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => t.close());

  test('records the findings once (deduplicated), and no secret reaches the database', async () => {
    const args = ['scan', dirty, '--report', '--no-git-owner', '--url', url];
    const first = await runCli(args, { MANDATE_ADMIN_TOKEN: t.adminSecret });
    assert.equal(first.exitCode, 0, first.err);
    assert.equal(first.err, 'reported: 3 new, 0 already known (open 3, converted 0, dismissed 0)\n');
    const second = await runCli(args, { MANDATE_ADMIN_TOKEN: t.adminSecret });
    assert.equal(second.err, 'reported: 0 new, 3 already known (open 3, converted 0, dismissed 0)\n');
    const listed = await runCli(['finding', 'list', '--json', '--url', url], { MANDATE_ADMIN_TOKEN: t.adminSecret });
    const stored = JSON.parse(listed.out) as unknown;
    const findings = (Array.isArray(stored) ? stored : (stored as { findings: unknown[] }).findings) as Array<{ fingerprint: string; file: string }>;
    assert.deepEqual(findings.map((f) => f.fingerprint).sort(), secrets.map(fingerprint).sort());
    const data = t.app.config.dataDir;
    for (const file of readdirSync(data).filter((name) => name.startsWith('mandate.db'))) {
      const bytes = readFileSync(join(data, file)).toString('latin1');
      for (const secret of secrets) assert.ok(!bytes.includes(secret) && !bytes.includes(secret.slice(-30)), `${file} holds a secret`);
    }
    for (const run of [first, second, listed]) for (const secret of secrets) assert.ok(!run.out.includes(secret) && !run.err.includes(secret));
  });

  test('a token without findings:write is refused (ERR_ADMIN_FORBIDDEN), exit 1', async () => {
    const created = await t.call('POST', '/admin/v1/tokens', { human_id: t.admin.id, label: 'reader', rights: ['findings:read'] });
    const reader = (JSON.parse(created.body) as { secret: string }).secret;
    const run = await runCli(['scan', dirty, '--report', '--no-git-owner', '--url', url], { MANDATE_ADMIN_TOKEN: reader });
    assert.equal(run.exitCode, 1);
    assert.match(run.err, /^error: ERR_ADMIN_FORBIDDEN: /m);
  });
});
