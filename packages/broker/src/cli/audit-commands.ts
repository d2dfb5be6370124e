import type { Command } from 'commander';

export function registerAuditCommands(_program: Command): void {
  // filled in by its owner
}
