import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { STORE_FILE } from '../app.ts';
import { verifyAudit, type AuditFault, type AuditReport } from '../audit/verify.ts';
import { parseJwks, verificationKeysFromJwks, verificationKeysFromStore, type VerificationKeys } from '../audit/verification-keys.ts';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import { hashedContent, type AuditRecord } from '../core/audit-chain.ts';
import { nodeChainHashing } from '../store/chain-hashing.ts';
import { readExportPage, toJsonLine as exportRecord } from '../audit/export-jsonl.ts';
import { ioOf, type Io } from './cli-output.ts';
import { agentsOfMandates, brokerVersion, toOcsf } from '../audit/export-ocsf.ts';
import type { Store } from '../ports/store.ts';
import { createStore } from '../store/open-store.ts';

interface StoreOptions {
  data?: string;
  config?: string;
  json?: boolean;
}

type VerifyOptions = StoreOptions & { trustedJwks?: string };
type TailOptions = StoreOptions & { lines: string };
type ExportOptions = StoreOptions & { format: string; from?: string; to?: string };

/** Exit codes of the audit commands: 1 = the log failed verification, 2 = usage or I/O error. */
const EXIT_FAULTS = 1;
const EXIT_USAGE = 2;
const MAX_TAIL = 10_000;

/** Thrown for usage and I/O problems; printed as one line, exit code 2. */
class AuditCliError extends Error {}

/**
 * `mandate audit verify|tail`: offline commands on the data directory. They open the store
 * read-only next to a running server (WAL allows it) and start nothing else.
 */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('Check and read the tamper-evident audit log (offline, on the data directory)');
  withStoreOptions(audit.command('verify'))
    .description('Verify every audit chain, its sealed head and the external checkpoints; exit 1 on any fault')
    .option('--trusted-jwks <file>', 'check signatures only against the keys in this JWKS, not those in the database')
    .action((options: VerifyOptions) => runCommand(options, verifyCommand));
  withStoreOptions(audit.command('tail'))
    .description('Print the newest audit events, oldest first')
    .option('-n, --lines <count>', `number of events (1–${MAX_TAIL})`, '20')
    .action((options: TailOptions) => runCommand(options, tailCommand));
  withStoreOptions(audit.command('export'))
    .description('Export events as JSON lines or OCSF 1.3.0 events (one per line), oldest first; --from inclusive, --to exclusive')
    .option('--format <format>', 'jsonl | ocsf', 'jsonl')
    .option('--from <time>', 'RFC 3339 time, e.g. 2026-01-01T00:00:00Z (default: the beginning)')
    .option('--to <time>', 'RFC 3339 time (default: now)')
    .action((options: ExportOptions, command: Command) => runCommand(options, (o, config, open) => exportCommand(o, config, open, ioOf(command))));
}

function withStoreOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'data directory (env MANDATE_DATA, default ./.mandate)')
    .option('--config <file>', 'JSON config file (env MANDATE_CONFIG)')
    .option('--json', 'machine-readable output');
}

type CommandBody<O> = (options: O, config: Config, openStore: () => Promise<Store>) => Promise<number>;

/** Loads config, runs the command, closes the store; usage and I/O errors end in exit code 2. */
async function runCommand<O extends StoreOptions>(options: O, body: CommandBody<O>): Promise<void> {
  const opened: { store?: Store } = {};
  try {
    const config = loadConfig({ flags: { data: options.data, config: options.config }, env: process.env });
    process.exitCode = await body(options, config, async () => (opened.store = await openStore(config)));
  } catch (error) {
    const message = error instanceof ConfigError || error instanceof AuditCliError ? error.message : `error: ${(error as Error).message}`;
    process.stderr.write(`mandate audit: ${printable(message)}\n`);
    process.exitCode = EXIT_USAGE;
  } finally {
    await opened.store?.close();
  }
}

/** Read-only and never migrated: a missing file is an error, not a new empty database. */
async function openStore(config: Config): Promise<Store> {
  // PostgreSQL (`store.url`): opened read-only (every transaction), never migrated.
  if (config.store.url !== undefined) return createStore(config, { readonly: true });
  const path = join(config.dataDir, STORE_FILE);
  if (!existsSync(path)) throw new AuditCliError(`no store at ${path} (check --data / --config)`);
  return createStore(config, { readonly: true });
}

async function verifyCommand(options: VerifyOptions, config: Config, openStore: () => Promise<Store>): Promise<number> {
  const trusted = options.trustedJwks ? readTrustedJwks(options.trustedJwks) : null;
  const store = await openStore();
  const keys = trusted ?? (await verificationKeysFromStore(store.keys));
  const report = await verifyAudit({ sink: store.audit, keys, checkpointFile: config.audit.checkpointFile, hashing: nodeChainHashing });
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ok ? 0 : EXIT_FAULTS;
}

function readTrustedJwks(file: string): VerificationKeys {
  try {
    return verificationKeysFromJwks(parseJwks(readFileSync(file, 'utf8')));
  } catch (error) {
    throw new AuditCliError(`--trusted-jwks ${file}: ${(error as Error).message}`);
  }
}

async function tailCommand(options: TailOptions, _config: Config, openStore: () => Promise<Store>): Promise<number> {
  const count = parseCount(options.lines);
  const store = await openStore();
  const records = await store.audit.tail(count);
  process.stdout.write(records.map((r) => `${options.json ? toJsonLine(r) : formatEvent(r)}\n`).join(''));
  return 0;
}

function parseCount(text: string): number {
  const count = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(count >= 1 && count <= MAX_TAIL)) throw new AuditCliError(`-n expects a whole number from 1 to ${MAX_TAIL}, got "${text}"`);
  return count;
}

export function formatReport(report: AuditReport): string {
  const lines = report.chains.map(
    (c) => `chain ${c.chain}: ${c.events} events, last seq ${c.lastSeq}, checkpoint seq ${c.checkpointSeq ?? 'none'}`,
  );
  lines.push(...report.faults.map(formatFault));
  lines.push(report.ok ? 'audit ok' : `audit FAILED: ${report.faults.length} fault(s)`);
  return lines.map((line) => `${printable(line)}\n`).join('');
}

export function formatFault(fault: AuditFault): string {
  return `${fault.code} chain=${fault.chain}${fault.seq === undefined ? '' : ` seq=${fault.seq}`}: ${fault.message}`;
}

export function formatEvent(r: AuditRecord): string {
  const field = (name: string, value: string | null) => `${name}=${value ?? '-'}`;
  return printable(
    [
      isoTime(r.time),
      `${r.chain}:${r.seq}`,
      r.type,
      field('actor', r.actor),
      field('approver', r.approver),
      field('mandate', r.mandateId),
      field('jti', r.jti),
      field('request', r.requestId),
    ].join(' '),
  );
}

/** A tampered `time` must not crash the listing. */
function isoTime(time: number): string {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? `time=${String(time)}` : date.toISOString();
}

/** Wire (snake_case) names, as hashed, plus the hash. */
function toJsonLine(r: AuditRecord): string {
  return JSON.stringify({ ...hashedContent(r), hash: r.hash });
}

/** Stored text may be attacker-written: no terminal control sequences reach the screen. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

const EXPORT_PAGE = 1000;

/** Pages through the store read-only, so an export of millions of events runs in bounded memory. */
async function exportCommand(options: ExportOptions, _config: Config, openStore: () => Promise<Store>, io: Io): Promise<number> {
  if (options.format !== 'jsonl' && options.format !== 'ocsf') throw new AuditCliError(`--format must be jsonl or ocsf, got "${options.format}"`);
  const from = options.from === undefined ? 0 : parseTime('--from', options.from);
  const to = options.to === undefined ? Date.now() + 1 : parseTime('--to', options.to);
  if (from >= to) throw new AuditCliError('--from must be earlier than --to');
  const store = await openStore();
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof readExportPage>> = await readExportPage(store.audit, { from, to, cursor, limit: EXPORT_PAGE });
    const agentOfMandate = options.format === 'ocsf' ? await agentsOfMandates(page.records, (id) => store.mandates.get(id)) : new Map<string, string>();
    const lines = page.records.map((r) => JSON.stringify(options.format === 'ocsf' ? toOcsf(r, { productVersion: brokerVersion(), agentOfMandate }) : exportRecord(r)));
    if (lines.length > 0) io.out(`${lines.join('\n')}\n`);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return 0;
}

function parseTime(flag: string, text: string): number {
  const time = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time)) throw new AuditCliError(`${flag} expects an RFC 3339 time such as 2026-01-01T00:00:00Z, got "${text}"`);
  return time;
}
