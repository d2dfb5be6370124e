import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';

/**
 * The fuzz oracle shared by every fuzz file (issue #11 item 2): each input either returns
 * (accepted) or throws the target's own typed error (rejected). Anything else — a TypeError, a
 * RangeError from deep inside, an unhandled rejection — is a crash and fails the run; so does an
 * input that takes longer than `HANG_MS` (timed one by one, async work raced against a timer).
 */
export const HANG_MS = 5_000;

export interface FuzzTally {
  target: string;
  tried: number;
  rejected: number;
  accepted: number;
  slowestMs: number;
}

export interface FuzzRun {
  numRuns: number;
  seed: number;
  /** The seed of the whole file (targets run at fileSeed + index): what FUZZ_SEED replays. */
  fileSeed?: number;
}

/** The seed of a long run: `FUZZ_SEED` replays one, otherwise a new one each run (printed). */
export function longSeed(): number {
  const given = process.env.FUZZ_SEED;
  return given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

/** Every tally printed, one line per target, for the figures (see printTallies). */
export const TALLIES: FuzzTally[] = [];

/**
 * Runs `numRuns` inputs of `arbitrary` through `target`. `typed` says which errors are the
 * target's own rejections. Returns (and records) the counts; throws on the first crash or hang
 * with the seed, so `FUZZ_SEED=<seed>` replays it.
 */
export async function fuzz<T>(
  target: string,
  arbitrary: fc.Arbitrary<T>,
  run: (input: T) => unknown,
  typed: (error: unknown) => boolean,
  { numRuns, seed, fileSeed = seed }: FuzzRun,
): Promise<FuzzTally> {
  const tally: FuzzTally = { target, tried: 0, rejected: 0, accepted: 0, slowestMs: 0 };
  const property = fc.asyncProperty(arbitrary, async (input) => {
    const started = performance.now();
    const outcome = await settleWithin(() => run(input), HANG_MS);
    const elapsed = performance.now() - started;
    tally.tried += 1;
    tally.slowestMs = Math.max(tally.slowestMs, elapsed);
    assert.ok(elapsed < HANG_MS, `${target}: an input took ${Math.round(elapsed)} ms (hang)`);
    if (outcome.ok) tally.accepted += 1;
    else if (typed(outcome.error)) tally.rejected += 1;
    else throw new Error(`${target}: crash: ${describe(outcome.error)}`, { cause: outcome.error });
  });
  try {
    await fc.assert(property, { numRuns, seed, endOnFailure: true });
  } catch (error) {
    const cause = (error as Error).cause;
    throw new Error(`${target} (seed ${seed}, replay with FUZZ_SEED=${fileSeed}): ${(error as Error).message}\n${cause instanceof Error ? cause.message : ''}`);
  }
  TALLIES.push(tally);
  console.log(`fuzz ${target}: tried ${tally.tried}, rejected ${tally.rejected}, accepted ${tally.accepted}, slowest ${tally.slowestMs.toFixed(1)} ms (seed ${seed})`);
  return tally;
}

type Outcome = { ok: true } | { ok: false; error: unknown };

async function settleWithin(run: () => unknown, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: new HangError(`no answer within ${ms} ms`) }), ms);
  });
  try {
    const work = (async (): Promise<Outcome> => {
      await run();
      return { ok: true };
    })().catch((error: unknown): Outcome => ({ ok: false, error }));
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}

export class HangError extends Error {
  override readonly name = 'HangError';
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}\n${error.stack ?? ''}`;
  return String(error);
}

/** Sum of the recorded tallies (for the figures and the ≥ N assertions). */
export function totalTried(): number {
  return TALLIES.reduce((sum, t) => sum + t.tried, 0);
}

/** Each target was reached in both ways (some inputs accepted, some rejected), when that is expected. */
export function assertBothOutcomes(tally: FuzzTally, minEach = 1): void {
  assert.ok(tally.accepted >= minEach, `${tally.target}: only ${tally.accepted} inputs accepted — the mutations never keep a valid input valid`);
  assert.ok(tally.rejected >= minEach, `${tally.target}: only ${tally.rejected} inputs rejected`);
}

/**
 * In-process fuzz targets: every request parser and proof checker of the broker, fed random
 * inputs and mutations of valid ones. Each returns its tally; the caller sets runs and seed.
 */
export interface FuzzTarget {
  name: string;
  /** Share of the file's runs this target gets (relative weight). */
  weight: number;
  run(options: FuzzRun): Promise<FuzzTally>;
}

/** Splits `total` runs over the targets by weight and runs them one after another. */
export async function runTargets(targets: readonly FuzzTarget[], total: number, seed: number): Promise<FuzzTally[]> {
  const weights = targets.reduce((sum, t) => sum + t.weight, 0);
  const tallies: FuzzTally[] = [];
  for (const [i, target] of targets.entries()) tallies.push(await target.run({ numRuns: Math.max(1, Math.ceil((total * target.weight) / weights)), seed: seed + i, fileSeed: seed }));
  return tallies;
}
