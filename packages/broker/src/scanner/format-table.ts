import type { ScanReport } from './index.ts';

const COLUMNS = ['KIND', 'LOCATION', 'OWNER', 'FINGERPRINT'] as const;

/** Columns padded to the widest cell; the last column is never padded. */
function align(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/**
 * `--format table` (the default): one row per finding, then each distinct reason once, then a
 * summary line. Fingerprints are shown in full so a row can be matched to the admin API's findings.
 */
export function formatTable(report: ScanReport): string {
  const summary = `${report.findings.length} finding(s) in ${report.filesScanned} file(s) scanned, ${report.filesSkipped} skipped\n`;
  if (report.findings.length === 0) return `No borrowed human credentials found.\n${summary}`;
  const rows = report.findings.map((f) => [f.kind, f.line > 0 ? `${f.file}:${f.line}` : f.file, f.ownerGuess ?? '-', f.fingerprint]);
  const reasons = new Set(report.findings.map((f) => `  ${f.kind}: ${f.reason}`));
  return `${align([[...COLUMNS], ...rows])}\n\nWhy:\n${[...reasons].join('\n')}\n\n${summary}`;
}
