import { createServer, type AddressInfo } from 'node:net';
import { CommanderError, type Command } from 'commander';
import { createProgram } from '../../src/cli/program.ts';

export interface CliRun {
  out: string;
  err: string;
  exitCode: number;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/**
 * Runs `mandate <args>` in-process, capturing its output and exit code (commander's and ours).
 * `env` is set for the run only (e.g. `MANDATE_ADMIN_TOKEN`).
 */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const program = createProgram();
  for (const command of allCommands(program)) {
    command.configureOutput({ writeOut: (text) => void (out += text), writeErr: (text) => void (err += text) });
    command.exitOverride();
  }
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  let exitCode = 0;
  try {
    await program.parseAsync(['node', 'mandate', ...args]);
    exitCode = Number(process.exitCode ?? 0);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exitCode = error.exitCode;
  } finally {
    process.exitCode = undefined;
    for (const [key, value] of Object.entries(saved)) if (value === undefined) delete process.env[key]; else process.env[key] = value;
  }
  return { out, err, exitCode };
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
