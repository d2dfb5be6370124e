import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServingState } from '../http/ops/serving.ts';
import { createShutdown, FORCED_EXIT_CODE, type ShutdownTarget } from './shutdown.ts';

function fakeTarget(close: () => Promise<void>) {
  const lines: Array<Record<string, unknown>> = [];
  const record = (obj: Record<string, unknown>) => void lines.push(obj);
  let cut = 0;
  const target = {
    http: { log: { info: record, warn: record, error: record }, server: { closeAllConnections: () => void (cut += 1) } },
    serving: createServingState(),
    close,
  } as unknown as ShutdownTarget;
  return { target, lines, cuts: () => cut };
}

test('a second signal exits at once with the forced exit code', async () => {
  const { target, lines } = fakeTarget(() => new Promise(() => undefined));
  const exits: number[] = [];
  const onSignal = createShutdown(target, { graceMs: 60_000, exit: (code) => void exits.push(code) });
  onSignal('SIGTERM');
  assert.equal(target.serving.draining, true, 'not ready from the first signal');
  onSignal('SIGINT');
  assert.deepEqual(exits, [FORCED_EXIT_CODE]);
  assert.deepEqual(lines.map((l) => l.phase), ['draining', 'forced']);
});

test('past the grace period the remaining connections are cut, then the process stops', async () => {
  let finish: () => void = () => undefined;
  const { target, lines, cuts } = fakeTarget(() => new Promise<void>((resolve) => (finish = resolve)));
  createShutdown(target, { graceMs: 20, exit: () => undefined })('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(cuts(), 1);
  finish();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lines.map((l) => l.phase), ['draining', 'grace_expired', 'stopped']);
  assert.equal(lines[2]!.grace_expired, true);
});
