import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ScanFinding } from '../core/finding.ts';
import { createGitOwnerLookup } from './git-owner.ts';
import { printable } from './printable.ts';
import { findInText, type TextFinding } from './scan-text.ts';
import { readTextFile, walkFiles, type WalkedFile } from './walker.ts';

export interface ScanReport {
  findings: ScanFinding[];
  filesScanned: number;
  filesSkipped: number;
}

export interface ScanProgress {
  filesScanned: number;
  filesSkipped: number;
  findings: number;
}

export interface ScanOptions {
  /** Called every `progressEvery` files (and never with a path or a secret). */
  onProgress?: (progress: ScanProgress) => void;
  /** Default PROGRESS_EVERY. */
  progressEvery?: number;
  /**
   * Guess owners from the last git author of a file (default false). Opt-in: git reads the scanned
   * repository's own config, so turn it on only for trees you trust (git-owner.ts).
   */
  gitOwner?: boolean;
}

export const PROGRESS_EVERY = 1000;

/**
 * Scans files and directory trees for borrowed human credentials. Paths in findings are relative
 * to their root (a root that is a file is reported by its name). Secrets are hashed on the spot.
 *
 * @example
 * const report = await scan(['./agent'], { onProgress: (p) => console.error(p.filesScanned) });
 */
export async function scan(roots: string[], opts: ScanOptions = {}): Promise<ScanReport> {
  const report: ScanReport = { findings: [], filesScanned: 0, filesSkipped: 0 };
  const lookup = opts.gitOwner === true ? createGitOwnerLookup() : null;
  const onSkip = () => void report.filesSkipped++;
  for (const root of roots) {
    const boundary = statSync(root).isDirectory() ? root : dirname(root);
    const owner = (path: string) => lookup?.(path, boundary) ?? null;
    for (const file of filesOf(root, onSkip)) {
      const verdict = readTextFile(file.path);
      if ('skipped' in verdict) onSkip();
      else {
        report.filesScanned++;
        for (const found of findInText(verdict.text)) report.findings.push(toFinding(found, file, owner));
      }
      if ((report.filesScanned + report.filesSkipped) % (opts.progressEvery ?? PROGRESS_EVERY) === 0) await tick(report, opts);
    }
  }
  report.findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  return report;
}

function filesOf(root: string, onSkip: () => void): Iterable<WalkedFile> {
  const stat = statSync(root); // a missing root throws: the caller named it, so it is a usage error
  if (stat.isDirectory()) return walkFiles(root, onSkip);
  if (stat.isFile()) return [{ path: root, rel: basename(root) }];
  onSkip(); // a FIFO or device named on the command line is never opened either
  return [];
}

/** Reports progress and lets timers and signals run: the walk itself is synchronous. */
async function tick(report: ScanReport, opts: ScanOptions): Promise<void> {
  opts.onProgress?.({ filesScanned: report.filesScanned, filesSkipped: report.filesSkipped, findings: report.findings.length });
  await new Promise((resolve) => setImmediate(resolve));
}

function toFinding(found: TextFinding, file: WalkedFile, owner: (path: string) => string | null): ScanFinding {
  return { ...found, file: printable(file.rel, 1000), ownerGuess: found.ownerGuess ?? owner(file.path) };
}

/** Scans environment variables; a finding's file is `env:<NAME>` and its line 0. */
export function scanEnvironment(env: NodeJS.ProcessEnv): ScanFinding[] {
  const findings: ScanFinding[] = [];
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!value) continue;
    for (const found of findInText(value)) findings.push({ ...found, file: `env:${printable(name)}`, line: 0 });
  }
  return findings;
}
