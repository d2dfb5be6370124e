import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

/**
 * Graceful shutdown of the real `mandate serve` (docs/operations.md): a request in flight when
 * SIGTERM arrives completes, new connections are refused, the process logs one JSON line per
 * phase and exits 0. The in-flight request is held open by sending its body in two parts.
 */

const BIN = new URL('../bin/mandate.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'mandate-shutdown-'));
const data = join(dir, 'data');
const configFile = join(dir, 'config.json');
const started = new Set<ChildProcess>();
after(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

async function serve(): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'serve', '--data', data, '--port', '0', '--config', configFile, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', () => {
      const match = /listening on http:\/\/[\d.]+:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return { child, port, output: () => out, exited };
}

/** Resolves once `predicate` holds for the output, polling briefly. */
async function waitFor(running: Running, predicate: (out: string) => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (predicate(running.output())) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}:\n${running.output()}`);
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The listener closes a moment after the `draining` line: true once a connection is refused. */
async function refusedSoon(port: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      (await open(port)).destroy();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.once('close', () => resolve(text));
  });
}

test('SIGTERM: the in-flight request completes, new connections are refused, one JSON line per phase, exit 0', async () => {
  writeFileSync(configFile, JSON.stringify({ attestation: { policies: { default: { anyOf: [{ allOf: [{ attestor: 'code-digest' }] }] } } } }));
  const running = await serve();
  const token = readFileSync(join(data, 'admin-token'), 'utf8').trim();
  const body = JSON.stringify({ name: 'Grace' });

  const socket = await open(running.port);
  const response = readAll(socket);
  socket.write(
    `POST /admin/v1/humans HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nX-Request-Id: req_ShutdownShutdownShutdo\r\n\r\n${body.slice(0, 5)}`,
  );
  await waitFor(running, (out) => out.includes('req_ShutdownShutdownShutdo'), 'the request to be in flight');

  running.child.kill('SIGTERM');
  await waitFor(running, (out) => out.includes('"phase":"draining"'), 'the draining line');
  assert.equal(await refusedSoon(running.port), true, 'new connections are refused while the request is still in flight');

  socket.write(body.slice(5));
  const text = await response;
  assert.match(text, /^HTTP\/1\.1 201 /, text);
  assert.match(text, /"name":"Grace"/);
  assert.equal(await running.exited, 0, running.output());

  const phases = running.output().split('\n').filter((line) => line.includes('"msg":"shutdown"')).map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(phases.map((p) => p.phase), ['draining', 'stopped']);
  assert.equal(phases[0]!.signal, 'SIGTERM');
  assert.equal(phases[0]!.in_flight, 1);
  assert.equal(phases[1]!.grace_expired, false);
  assert.doesNotMatch(running.output(), new RegExp(token), 'the admin token is never logged');
});
