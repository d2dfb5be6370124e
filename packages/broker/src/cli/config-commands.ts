import type { Command } from 'commander';
import { configJsonSchema, describeConfig } from '../config/describe.ts';
import { formatIssue, validateConfigFile } from '../config/load.ts';

/** Offline config commands: they read files, never the running broker. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Check and describe the configuration');
  config
    .command('validate <file>')
    .description('Check a JSON config file; exit 1 with a dotted path per mistake')
    .action((file: string) => {
      const issues = validateConfigFile(file);
      for (const issue of issues) process.stderr.write(`${formatIssue(issue)}\n`);
      if (issues.length === 0) process.stdout.write(`${file}: valid\n`);
      process.exitCode = issues.length === 0 ? 0 : 1;
    });
  config
    .command('describe')
    .description('List every config key with its default, env var, flag and description')
    .option('--json-schema', 'print the JSON Schema instead')
    .action((options: { jsonSchema?: boolean }) => {
      if (options.jsonSchema) return void process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
      for (const key of describeConfig()) {
        const def = key.default === undefined ? '' : ` = ${JSON.stringify(key.default)}`;
        const env = key.env ? ` [${key.env}, ${key.flag}]` : '';
        process.stdout.write(`${key.path} (${key.type})${def}${env}\n    ${key.description}\n`);
      }
    });
}
