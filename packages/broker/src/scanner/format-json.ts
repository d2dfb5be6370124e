import type { ScanFinding } from '../core/finding.ts';
import type { ScanReport } from './index.ts';

/** A finding as the admin API and `--format json` spell it (snake_case on the wire). */
export interface WireFinding {
  kind: string;
  service: string;
  file: string;
  line: number;
  fingerprint: string;
  owner_guess: string | null;
  reason: string;
}

export function toWire(finding: ScanFinding): WireFinding {
  const { kind, service, file, line, fingerprint, ownerGuess, reason } = finding;
  return { kind, service, file, line, fingerprint, owner_guess: ownerGuess, reason };
}

/** `--format json`: the report with snake_case members; secrets are not in it to begin with. */
export function formatJson(report: ScanReport): string {
  const body = { findings: report.findings.map(toWire), files_scanned: report.filesScanned, files_skipped: report.filesSkipped };
  return `${JSON.stringify(body, null, 2)}\n`;
}
