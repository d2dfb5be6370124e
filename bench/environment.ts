import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import type { Plan } from './measure.ts';

const root = new URL('..', import.meta.url).pathname;

/** What every result file records about the run: commit (and whether the tree was dirty), Node, machine, plan. */
export function environment(plan: Plan) {
  const git = (args: string[]) => { try { return execFileSync('git', args, { cwd: root }).toString().trim(); } catch { return 'unknown'; } };
  return {
    commit: git(['rev-parse', 'HEAD']),
    dirty: git(['status', '--porcelain']) !== '',
    node: process.version,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30) },
    plan,
  };
}
