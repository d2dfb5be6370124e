/**
 * CPU-seconds of whole process trees from /proc (no cgroups needed): for each root and every live
 * descendant, utime + stime + cutime + cstime. A child that exits is reaped by its parent, and
 * its time then moves into the parent's cutime/cstime, so the sum never loses an exited
 * PostgreSQL backend and never counts one twice (proc(5)).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

interface Stat {
  ppid: number;
  ticks: number;
}

function statOf(pid: number): Stat | undefined {
  try {
    // Fields after the `(comm)`: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined; // exited meanwhile: its time is in its parent's cutime now
  }
}

/** Total CPU-seconds of `roots` and all their descendants now, and how many processes that is. */
export function treeCpu(roots: number[]): { cpuSeconds: number; processes: number } {
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = statOf(Number(name));
    if (stat) stats.set(Number(name), stat);
  }
  const inTree = new Set(roots.filter((pid) => stats.has(pid)));
  // Descendants: repeat until no new child joins (trees here are at most a few levels deep).
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, stat] of stats) if (!inTree.has(pid) && inTree.has(stat.ppid)) { inTree.add(pid); grew = true; }
  }
  let ticks = 0;
  for (const pid of inTree) ticks += stats.get(pid)!.ticks;
  return { cpuSeconds: ticks / TICKS_PER_SECOND, processes: inTree.size };
}
