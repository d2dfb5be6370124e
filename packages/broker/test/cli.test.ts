import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { ecPublicJwk, ed25519PublicJwk, startTestApp, type TestApp } from './support/app-fixture.ts';
import { runCli, unusedPort, type CliRun } from './support/cli-runner.ts';

/** The CLI against a real listening broker: each command is a client of the admin API. */
let t: TestApp;
let url: string;
let tokenDir: string;

before(async () => {
  t = await startTestApp();
  url = await t.app.http.listen({ port: 0, host: '127.0.0.1' });
  tokenDir = join(t.dir, 'cli');
  mkdirSync(tokenDir);
  writeFileSync(join(tokenDir, 'admin-token'), `${t.adminSecret}\n`, { mode: 0o600 });
});
after(() => t.close());
afterEach(() => {
  process.exitCode = undefined;
});

type Run = CliRun;

/** Runs `mandate <args>` against the test server; the admin token must never be printed. */
async function mandate(args: string[], options: { withServer?: boolean } = {}): Promise<Run> {
  const server = options.withServer === false ? [] : ['--url', url, '--data', tokenDir];
  const run = await runCli([...args, ...server]);
  assert.ok(!run.out.includes(t.adminSecret) && !run.err.includes(t.adminSecret), 'the admin token was printed');
  return run;
}

const idIn = (text: string, prefix: string) => new RegExp(`${prefix}[A-Za-z0-9_-]{22}`).exec(text)?.[0] ?? assert.fail(`no ${prefix} id in ${text}`);

describe('humans', () => {
  test('add, list, show, disable', async () => {
    const added = await mandate(['human', 'add', '--name', 'Carol', '--email', 'carol@example.com']);
    assert.equal(added.exitCode, 0, added.err);
    assert.match(added.out, /^id: +usr_/m);
    const id = idIn(added.out, 'usr_');
    assert.match((await mandate(['human', 'list'])).out, new RegExp(`${id} +active +Carol +carol@example.com`));
    const shown = JSON.parse((await mandate(['human', 'show', id, '--json'])).out) as Record<string, unknown>;
    assert.equal(shown.name, 'Carol');
    assert.match((await mandate(['human', 'disable', id])).out, /^status: +disabled$/m);
  });

  test('an error prints the problem code and detail and exits 1', async () => {
    const run = await mandate(['human', 'show', 'usr_nobody']);
    assert.equal(run.exitCode, 1);
    assert.equal(run.err, 'error: ERR_HUMAN_NOT_FOUND: no human usr_nobody\n');
  });

  test('a missing required option is a usage error', async () => {
    const run = await mandate(['human', 'add']);
    assert.notEqual(run.exitCode, 0);
    assert.match(run.err, /required option '--name <name>' not specified/);
  });
});

describe('agents', () => {
  test('add from a JWK file and inline JSON, list, show, suspend, retire', async () => {
    const owner = idIn((await mandate(['human', 'add', '--name', 'Owner'])).out, 'usr_');
    const jwkFile = join(t.dir, 'agent.jwk.json');
    writeFileSync(jwkFile, JSON.stringify(ecPublicJwk()));
    const fromFile = await mandate(['agent', 'add', '--name', 'billing-bot', '--owner', owner, '--policy', 'default', '--jwk', jwkFile]);
    assert.equal(fromFile.exitCode, 0, fromFile.err);
    const agent = idIn(fromFile.out, 'agt_');
    const inline = await mandate(['agent', 'add', '--name', 'edge', '--owner', owner, '--approver', t.admin.id, '--policy', 'default', '--kind', 'workload', '--jwk', JSON.stringify(ed25519PublicJwk()), '--json']);
    assert.deepEqual((JSON.parse(inline.out) as { approvers: string[] }).approvers, [t.admin.id]);
    assert.match((await mandate(['agent', 'list'])).out, new RegExp(`${agent} +active +ai_agent +billing-bot +default +${owner}`));
    assert.match((await mandate(['agent', 'show', agent])).out, /^jwk_thumbprint: /m);
    assert.match((await mandate(['agent', 'suspend', agent])).out, /^status: +suspended$/m);
    assert.match((await mandate(['agent', 'retire', agent])).out, /^status: +retired$/m);
    const again = await mandate(['agent', 'suspend', agent]);
    assert.equal(again.exitCode, 1);
    assert.match(again.err, /^error: ERR_AGENT_STATE: agent agt_\S+ is retired/);
  });

  test('a private key is refused by the broker (exit 1)', async () => {
    const run = await mandate(['agent', 'add', '--name', 'leaky', '--owner', t.admin.id, '--policy', 'default', '--jwk', JSON.stringify({ ...ecPublicJwk(), d: 'AAAA' })]);
    assert.equal(run.exitCode, 1);
    assert.match(run.err, /^error: ERR_AGENT_JWK_INVALID: jwk must be a public key/);
  });

  test('no --owner is a usage error (exit 2)', async () => {
    const run = await mandate(['agent', 'add', '--name', 'x', '--policy', 'default', '--jwk', '{}']);
    assert.equal(run.exitCode, 2);
    assert.match(run.err, /at least one --owner/);
  });

  test('an unreadable --jwk file is a usage error (exit 2)', async () => {
    const run = await mandate(['agent', 'add', '--name', 'x', '--owner', t.admin.id, '--policy', 'default', '--jwk', join(t.dir, 'missing.json')]);
    assert.equal(run.exitCode, 2);
    assert.match(run.err, /--jwk: cannot read file/);
  });
});

describe('tokens and keys', () => {
  test('create prints the secret once; list never shows it; revoke', async () => {
    const created = await mandate(['token', 'create', '--human', t.admin.id, '--rights', 'agents:read,audit:read', '--label', 'ci', '--expires-in', '30d']);
    assert.equal(created.exitCode, 0, created.err);
    const secret = /^(mat_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})$/m.exec(created.out)?.[1];
    assert.ok(secret, created.out);
    const id = secret.split('.')[0]!;
    const listed = await mandate(['token', 'list']);
    assert.match(listed.out, new RegExp(`${id} +usr_\\S+ +ci +agents:read,audit:read`));
    assert.doesNotMatch(listed.out, new RegExp(secret.split('.')[1]!));
    assert.match((await mandate(['token', 'revoke', id])).out, /^revoked_at: +\d{4}-/m);
  });

  test('the new token works through MANDATE_ADMIN_TOKEN', async () => {
    const created = JSON.parse((await mandate(['token', 'create', '--human', t.admin.id, '--rights', 'keys:read', '--json'])).out) as { secret: string };
    process.env.MANDATE_ADMIN_TOKEN = created.secret;
    try {
      const listed = await mandate(['keys', 'list', '--url', url], { withServer: false });
      assert.equal(listed.exitCode, 0, listed.err);
      const denied = await mandate(['human', 'list', '--url', url], { withServer: false });
      assert.equal(denied.exitCode, 1);
      assert.match(denied.err, /^error: ERR_ADMIN_FORBIDDEN: this call needs the humans:read right/);
    } finally {
      delete process.env.MANDATE_ADMIN_TOKEN;
    }
  });

  test('an unknown right is a usage error (exit 2)', async () => {
    const run = await mandate(['token', 'create', '--human', t.admin.id, '--rights', 'root']);
    assert.equal(run.exitCode, 2);
    assert.match(run.err, /--rights: unknown right\(s\) root/);
  });

  test('a bad --expires-in is a usage error (exit 2)', async () => {
    const run = await mandate(['token', 'create', '--human', t.admin.id, '--rights', 'admin', '--expires-in', 'soon']);
    assert.equal(run.exitCode, 2);
  });

  test('keys rotate, then keys list shows the pending key', async () => {
    const rotated = await mandate(['keys', 'rotate']);
    const kid = /^kid: +(\S+)$/m.exec(rotated.out)?.[1];
    assert.ok(kid, rotated.out);
    assert.match((await mandate(['keys', 'list'])).out, new RegExp(`${kid} +ES256 +pending`));
  });
});

describe('setup errors', () => {
  test('no admin token anywhere is a usage error (exit 2)', async () => {
    const run = await mandate(['human', 'list', '--url', url, '--data', join(t.dir, 'nowhere')], { withServer: false });
    assert.equal(run.exitCode, 2);
    assert.match(run.err, /no admin token: set MANDATE_ADMIN_TOKEN/);
  });

  test('an unreachable broker exits 1 and names the URL, not the token', async () => {
    const closed = `http://127.0.0.1:${await unusedPort()}`;
    const run = await mandate(['human', 'list', '--url', closed, '--data', tokenDir], { withServer: false });
    assert.equal(run.exitCode, 1);
    assert.equal(run.err, `error: ERR_CLI_UNREACHABLE: cannot reach ${closed}: ECONNREFUSED\n`);
  });

  test('the real binary exits 2 on a usage error', () => {
    const bin = new URL('../bin/mandate.js', import.meta.url).pathname;
    const result = spawnSync(process.execPath, [bin, 'human', 'add'], { encoding: 'utf8', env: { ...process.env, MANDATE_ADMIN_TOKEN: '' } });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /required option '--name <name>'/);
  });
});
