import { CommanderError } from 'commander';
import { createProgram } from './cli/program.ts';

/** Entry point of the `mandate` command. Exit codes: 0 ok, 1 the command failed, 2 usage error. */
export async function main(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const informational = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help';
    process.exitCode = informational ? 0 : 2;
  }
}
