import { Command } from 'commander';
import { registerAuditCommands } from './audit-commands.ts';
import { registerConfigCommands } from './config-commands.ts';
import { registerDemoCommand } from './demo.ts';
import { registerDirectoryCommands } from './directory-commands.ts';
import { registerFindingCommands } from './finding-commands.ts';
import { registerKeysCommands } from './keys-commands.ts';
import { registerLifecycleCommands } from './lifecycle-commands.ts';
import { registerMandateCommands } from './mandate-commands.ts';
import { registerReviewCommands } from './review-commands.ts';
import { registerScanCommand } from './scan-command.ts';
import { registerServeCommand } from './serve-command.ts';

/** The `mandate` command tree. State-changing commands are clients of the admin API. */
export function createProgram(): Command {
  const program = new Command('mandate')
    .description('Mandate: identity broker for AI agents')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) })
    // Commander would exit(1) on a usage error, which reads like "faults found"; main() maps it to 2.
    .exitOverride();
  registerServeCommand(program);
  registerDemoCommand(program);
  registerMandateCommands(program);
  registerReviewCommands(program);
  registerConfigCommands(program);
  registerDirectoryCommands(program);
  registerKeysCommands(program);
  registerAuditCommands(program);
  registerScanCommand(program);
  registerFindingCommands(program);
  registerLifecycleCommands(program);
  return program;
}
