import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ecPublicJwk } from './support/app-fixture.ts';

const BIN = new URL('../bin/mandate.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'mandate-restart-'));
const data = join(dir, 'data');
const configFile = join(dir, 'config.json');
const started = new Set<ChildProcess>();
after(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  base: string;
  output: () => string;
}

/** Starts the real `mandate serve` on a free port and waits for its listening line. */
async function serve(): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', data, '--port', '0', '--config', configFile, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 20_000);
    child.stdout!.on('data', () => {
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return { child, base, output: () => out };
}

async function stop(running: Running): Promise<void> {
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

const token = () => readFileSync(join(data, 'admin-token'), 'utf8').trim();
async function api(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token()}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('a restart keeps humans, agents, keys, admin tokens and the audit log', async () => {
  writeFileSync(configFile, JSON.stringify({ attestation: { policies: { default: { anyOf: [{ allOf: [{ attestor: 'code-digest' }] }] } } } }));

  const first = await serve();
  assert.match(first.output(), /first start: admin token/);
  const human = await api(first.base, 'POST', '/admin/v1/humans', { name: 'Ada' });
  assert.equal(human.status, 201);
  const agent = await api(first.base, 'POST', '/admin/v1/agents', { name: 'bot', owners: [human.body.id], policy: 'default', jwk: ecPublicJwk() });
  assert.equal(agent.status, 201, JSON.stringify(agent.body));
  const jwksBefore = await (await fetch(`${first.base}/jwks`)).json();
  await stop(first);

  const second = await serve();
  assert.doesNotMatch(second.output(), /first start/, 'the bootstrap runs only once');
  const humans = await api(second.base, 'GET', '/admin/v1/humans');
  assert.ok((humans.body.humans as Array<{ id: string }>).some((h) => h.id === human.body.id));
  const agentAfter = await api(second.base, 'GET', `/admin/v1/agents/${String(agent.body.id)}`);
  assert.equal(agentAfter.status, 200);
  assert.equal(agentAfter.body.name, 'bot');
  assert.deepEqual(await (await fetch(`${second.base}/jwks`)).json(), jwksBefore, 'the same signing key is served');
  await stop(second);

  const verify = spawnSync(process.execPath, [BIN, 'audit', 'verify', '--data', data], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  const tail = spawnSync(process.execPath, [BIN, 'audit', 'tail', '--data', data, '--json'], { encoding: 'utf8' });
  const types = tail.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { type: string }).type);
  assert.deepEqual(types.filter((t) => t === 'human.added' || t === 'agent.registered'), ['human.added', 'human.added', 'agent.registered']);
});

test('the data directory is owner-only', () => {
  assert.equal(statSync(data).mode & 0o777, 0o700);
  for (const file of ['admin-token', 'mandate.db', 'audit-checkpoints.jsonl']) assert.equal(statSync(join(data, file)).mode & 0o777, 0o600, file);
});
