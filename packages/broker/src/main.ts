import { createProgram } from './cli/program.ts';

/** Entry point of the `mandate` command. */
export async function main(argv: string[]): Promise<void> {
  await createProgram().parseAsync(argv);
}
