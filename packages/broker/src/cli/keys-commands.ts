import type { Command } from 'commander';

export function registerKeysCommands(_program: Command): void {
  // filled in by its owner
}
