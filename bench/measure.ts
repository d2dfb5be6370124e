/**
 * Closed-loop measurement helpers: warm-up, then N timed runs, medians and spread, with the
 * process's CPU-seconds per run. Every loop is bounded by time.
 */
export interface RunFigure {
  ops: number;
  seconds: number;
  perSecond: number;
  cpuSeconds: number;
  perCpuSecond: number;
}

export interface CaseResult {
  name: string;
  unit: string;
  runs: RunFigure[];
  median: number;
  medianPerCpuSecond: number;
  spread: { min: number; max: number; relative: number };
}

export interface Plan {
  warmupMs: number;
  runMs: number;
  runs: number;
}

export const FULL_PLAN: Plan = { warmupMs: 5_000, runMs: 20_000, runs: 3 };
export const QUICK_PLAN: Plan = { warmupMs: 500, runMs: 2_000, runs: 3 };

type Op = () => unknown;

async function loopFor(ms: number, op: Op, isAsync: boolean): Promise<RunFigure> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + ms;
  let ops = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 32; i++) {
      if (isAsync) await op();
      else op();
      ops++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { ops, seconds, perSecond: ops / seconds, cpuSeconds, perCpuSecond: ops / cpuSeconds };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export async function measure(name: string, unit: string, plan: Plan, op: Op, isAsync = false): Promise<CaseResult> {
  await loopFor(plan.warmupMs, op, isAsync);
  const runs: RunFigure[] = [];
  for (let i = 0; i < plan.runs; i++) runs.push(await loopFor(plan.runMs, op, isAsync));
  const rates = runs.map((r) => r.perSecond);
  const med = median(rates);
  const min = Math.min(...rates);
  const max = Math.max(...rates);
  return { name, unit, runs, median: med, medianPerCpuSecond: median(runs.map((r) => r.perCpuSecond)), spread: { min, max, relative: (max - min) / med } };
}
