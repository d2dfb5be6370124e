/**
 * Test support for the crash-consistency runs: the real `mandate serve` as a child process, started
 * on a data directory (and, for PostgreSQL, `MANDATE_STORE_URL`), killed with SIGKILL by the PID
 * this module started, and restarted on the same data. Every child started here is SIGKILLed at
 * process exit if a test left it running; nothing is ever killed by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const BIN = new URL('../../bin/mandate.js', import.meta.url).pathname;
const START_TIMEOUT_MS = 60_000;

export interface BrokerOptions {
  data: string;
  configFile: string;
  /** Extra environment, e.g. `MANDATE_STORE_URL` for PostgreSQL. */
  env?: Record<string, string>;
}

export interface BrokerProcess {
  child: ChildProcess;
  pid: number;
  base: string;
  /** Milliseconds from spawn until `/readyz` answered 200. */
  startMs: number;
  /** Milliseconds from the listening line until `/readyz` answered 200 (without Node/tsx start-up). */
  readyAfterListenMs: number;
  output(): string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `mandate serve` on a free loopback port; resolves once `/readyz` answers 200. */
export async function startBroker(options: BrokerOptions): Promise<BrokerProcess> {
  const started = performance.now();
  const args = [BIN, 'serve', '--data', options.data, '--config', options.configFile, '--port', '0', '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const base = await listening(child, () => out);
  const listened = performance.now();
  await ready(base, () => out);
  const now = performance.now();
  return { child, pid: child.pid!, base, startMs: now - started, readyAfterListenMs: now - listened, output: () => out };
}

function listening(child: ChildProcess, out: () => string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out()}`)), START_TIMEOUT_MS);
    const onExit = (code: number | null) => (clearTimeout(timer), reject(new Error(`serve exited with ${code} before listening:\n${out()}`)));
    child.once('exit', onExit);
    child.stdout!.on('data', () => {
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out());
      if (!match) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      resolve(match[1]!);
    });
  });
}

/** The server "starts clean": `/readyz` 200 (store reachable, keys loaded), polled until then. */
async function ready(base: string, out: () => string): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  let last = '';
  while (performance.now() < deadline) {
    const response = await fetch(`${base}/readyz`).catch((error: Error) => error);
    if (!(response instanceof Error) && response.status === 200) return;
    last = response instanceof Error ? response.message : `${response.status} ${await response.text()}`;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`/readyz never answered 200 (last: ${last}):\n${out()}`);
}

/** SIGKILL to exactly this PID; resolves once the process is gone. */
export async function killBroker(broker: BrokerProcess): Promise<void> {
  const exited = exitOf(broker);
  process.kill(broker.pid, 'SIGKILL');
  const { signal } = await exited;
  if (signal !== 'SIGKILL') throw new Error(`broker ${broker.pid} ended with ${signal}, not SIGKILL`);
}

/** SIGTERM (graceful shutdown); resolves with the exit code. */
export async function stopBroker(broker: BrokerProcess): Promise<number | null> {
  const exited = exitOf(broker);
  process.kill(broker.pid, 'SIGTERM');
  return (await exited).code;
}

function exitOf(broker: BrokerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (broker.child.exitCode !== null || broker.child.signalCode !== null) return Promise.resolve({ code: broker.child.exitCode, signal: broker.child.signalCode });
  return new Promise((resolve) => broker.child.once('exit', (code, signal) => resolve({ code, signal })));
}

export const adminTokenOf = (data: string) => readFileSync(join(data, 'admin-token'), 'utf8').trim();
