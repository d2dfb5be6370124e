import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import type { ScanFinding } from '../core/finding.ts';
import { formatJson, toWire } from '../scanner/format-json.ts';
import { formatSarif } from '../scanner/format-sarif.ts';
import { formatTable } from '../scanner/format-table.ts';
import { scan, scanEnvironment, type ScanProgress } from '../scanner/index.ts';
import { AdminApiError, createAdminClient, resolveSettings, UsageError, withClientOptions, type AdminClient } from './admin-client.ts';
import { ioOf, type Io } from './cli-output.ts';

const FORMATS = ['table', 'json', 'sarif'] as const;
/**
 * The admin API takes at most 500 findings per call (http/admin/findings.ts), but a request body is
 * capped at 64 KiB by default; a finding is about 450 bytes on the wire, so 100 per call fit.
 */
const REPORT_BATCH = 100;
/** Progress lines start once a scan has run this long, then come at most once per interval. */
const PROGRESS_AFTER_MS = 1000;
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

interface ScanFlags {
  env?: boolean;
  format: string;
  json?: boolean;
  report?: boolean;
  failOnFindings?: boolean;
  progress: boolean;
  gitOwner?: boolean;
  url?: string;
  data?: string;
}

/**
 * `mandate scan <path…> [--env]`: finds borrowed human credentials. Exit codes: 0 done (findings
 * or not), 1 findings with --fail-on-findings or a failed --report, 2 usage. Secrets are never printed.
 */
export function registerScanCommand(program: Command): void {
  withClientOptions(program.command('scan [paths...]'))
    .description('Find borrowed human credentials (PATs, API keys, refresh tokens, human JWTs) in files and the environment')
    .option('--env', 'also scan the environment variables of this process')
    .option('--format <format>', `output: ${FORMATS.join(', ')}`, 'table')
    .option('--report', 'record the findings in the broker (POST /admin/v1/findings; needs findings:write)')
    .option('--fail-on-findings', 'exit 1 when anything is found (for CI)')
    .option('--no-progress', 'no progress lines on stderr')
    .option('--git-owner', 'guess owners from the last git author of a file (runs git in the scanned repository: trusted trees only)')
    .option('--no-git-owner', 'do not ask git (the default)')
    .addHelpText('after', '\nExit codes: 0 scanned; 1 findings with --fail-on-findings, or --report failed; 2 usage error.\nSecrets are never printed: a finding carries the SHA-256 fingerprint of its secret. See docs/scanner.md.')
    .action(async (paths: string[], flags: ScanFlags, command: Command) => {
      const io = ioOf(command);
      try {
        process.exitCode = await runScan(paths, flags, io);
      } catch (error) {
        if (!(error instanceof UsageError) && !(error instanceof AdminApiError)) throw error;
        io.err(`error: ${error instanceof AdminApiError ? `${error.code}: ${error.detail}` : error.message}\n`);
        process.exitCode = error instanceof UsageError ? 2 : 1;
      }
    });
}

async function runScan(paths: string[], flags: ScanFlags, io: Io): Promise<number> {
  const format = flags.json ? 'json' : flags.format;
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${format}`);
  if (paths.length === 0 && !flags.env) throw new UsageError('name at least one path to scan, or --env');
  const missing = paths.find((path) => !existsSync(path));
  if (missing !== undefined) throw new UsageError(`no such file or directory: ${missing}`);
  const client = flags.report ? createAdminClient(resolveSettings(flags)) : null; // a bad setup fails before the scan
  const report = await scan(paths, { gitOwner: flags.gitOwner === true, ...(flags.progress ? { onProgress: progressPrinter(io) } : {}) });
  if (flags.env) report.findings.push(...scanEnvironment(process.env));
  io.out(format === 'json' ? formatJson(report) : format === 'sarif' ? formatSarif(report, VERSION) : formatTable(report));
  if (client) io.err(await sendReport(client, report.findings));
  return flags.failOnFindings && report.findings.length > 0 ? 1 : 0;
}

function progressPrinter(io: Io): (progress: ScanProgress) => void {
  const started = Date.now();
  let last = started;
  return ({ filesScanned, filesSkipped, findings }) => {
    const now = Date.now();
    if (now - started < PROGRESS_AFTER_MS || now - last < PROGRESS_AFTER_MS) return;
    last = now;
    io.err(`scanning: ${filesScanned} files scanned, ${filesSkipped} skipped, ${findings} finding(s) so far\n`);
  };
}

/** Posts the findings in batches; returns the summary line for stderr. */
async function sendReport(client: AdminClient, findings: ScanFinding[]): Promise<string> {
  if (findings.length === 0) return 'reported: nothing to report\n';
  const counts = { created: 0, known: 0, open: 0, converted: 0, dismissed: 0 };
  for (let i = 0; i < findings.length; i += REPORT_BATCH) {
    const answer = await client.post('/admin/v1/findings', { findings: findings.slice(i, i + REPORT_BATCH).map(toWire) });
    for (const item of (answer.findings ?? []) as Array<{ created?: boolean; status?: keyof typeof counts }>) {
      counts[item.created ? 'created' : 'known']++;
      if (item.status === 'open' || item.status === 'converted' || item.status === 'dismissed') counts[item.status]++;
    }
  }
  return `reported: ${counts.created} new, ${counts.known} already known (open ${counts.open}, converted ${counts.converted}, dismissed ${counts.dismissed})\n`;
}

