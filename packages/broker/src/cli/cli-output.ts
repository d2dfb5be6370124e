import type { Command } from 'commander';
import { AdminApiError, createAdminClient, resolveSettings, UsageError, withClientOptions, type AdminClient } from './admin-client.ts';

/** Where a command writes: the root command's output settings, so tests can capture them. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export function ioOf(command: Command): Io {
  let root = command;
  while (root.parent) root = root.parent;
  const config = root.configureOutput();
  return {
    out: (text) => (config.writeOut ?? ((t: string) => process.stdout.write(t)))(text),
    err: (text) => (config.writeErr ?? ((t: string) => process.stderr.write(t)))(text),
  };
}

export interface ActionApi {
  client: AdminClient;
  io: Io;
  json: boolean;
  options: Record<string, unknown>;
  args: string[];
}

/**
 * Wraps a command body: builds the client, and turns failures into one line on stderr with an
 * exit code — 2 for usage mistakes, 1 for refusals by the broker. The admin token is never printed.
 */
export function adminAction(run: (api: ActionApi) => Promise<void>): (...params: unknown[]) => Promise<void> {
  return async (...params) => {
    const command = params[params.length - 1] as Command;
    const io = ioOf(command);
    const options = command.opts();
    try {
      const client = createAdminClient(resolveSettings(options));
      await run({ client, io, json: options.json === true, options, args: command.processedArgs as string[] });
    } catch (error) {
      fail(io, error);
    }
  };
}

function fail(io: Io, error: unknown): void {
  if (error instanceof UsageError) {
    io.err(`error: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof AdminApiError) {
    io.err(`error: ${error.code}: ${error.detail}\n`);
    process.exitCode = 1;
  } else {
    io.err(`error: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  }
}

/** A command that calls the admin API, with the shared options. Commander's own usage errors reach main(), which exits 2. */
export function leaf(parent: Command, spec: string, description: string): Command {
  return withClientOptions(parent.command(spec).description(description));
}

/** One resource as `key: value` lines, or JSON. */
export function printRecord(io: Io, record: Record<string, unknown>, json: boolean): void {
  if (json) return io.out(`${JSON.stringify(record, null, 2)}\n`);
  const width = Math.max(...Object.keys(record).map((key) => key.length));
  for (const [key, value] of Object.entries(record)) io.out(`${`${key}:`.padEnd(width + 2)}${show(value)}\n`);
}

/** A list as aligned columns, or JSON. */
export function printTable(io: Io, rows: Record<string, unknown>[], columns: string[], json: boolean): void {
  if (json) return io.out(`${JSON.stringify(rows, null, 2)}\n`);
  if (rows.length === 0) return io.out('(none)\n');
  const cells = [columns.map((c) => c.toUpperCase()), ...rows.map((row) => columns.map((c) => show(row[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  for (const line of cells) io.out(`${line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return value.map(show).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Stored and token text may be attacker-written: no terminal control sequences reach the screen. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
