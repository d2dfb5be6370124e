import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { configSchema, type ParsedConfig } from './schema.ts';

/** The resolved config: issuer and file locations filled in, paths absolute. */
export type Config = ParsedConfig & {
  issuer: string;
  dataDir: string;
  audit: ParsedConfig['audit'] & { checkpointFile: string };
};

export interface ConfigIssue {
  /** Dotted path of the bad key, e.g. `server.port`. */
  path: string;
  message: string;
  /** Where the value came from when not the file: `MANDATE_PORT`, `--port`. */
  source?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return `config error at ${issue.path}: ${issue.message}${issue.source ? ` (from ${issue.source})` : ''}`;
}

/** Settings that can come from flags and env vars, with the config key each one sets. */
export const OVERRIDES = [
  { flag: 'host', env: 'MANDATE_HOST', path: ['server', 'host'], numeric: false },
  { flag: 'port', env: 'MANDATE_PORT', path: ['server', 'port'], numeric: true },
  { flag: 'issuer', env: 'MANDATE_ISSUER', path: ['issuer'], numeric: false },
  { flag: 'data', env: 'MANDATE_DATA', path: ['dataDir'], numeric: false },
  { flag: 'logLevel', env: 'MANDATE_LOG_LEVEL', path: ['log', 'level'], numeric: false },
] as const;

/** Settings taken from the environment only: secrets do not belong on a command line (`ps` shows it). */
export const ENV_ONLY = [{ env: 'MANDATE_METRICS_BEARER_TOKEN', path: ['metrics', 'bearerToken'] }, { env: 'MANDATE_STORE_URL', path: ['store', 'url'] }] as const;

export type ConfigFlags = Partial<Record<(typeof OVERRIDES)[number]['flag'], string | undefined>> & { config?: string };

export interface ConfigSources {
  flags?: ConfigFlags;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Defaults ← config file (`--config` / `MANDATE_CONFIG`, JSON) ← `MANDATE_*` env ← flags. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const cwd = sources.cwd ?? process.cwd();
  const file = sources.flags?.config ?? env.MANDATE_CONFIG;
  const raw: Record<string, unknown> = file ? readConfigFile(resolve(cwd, file)) : {};
  const origins = new Map<string, string>();
  for (const o of OVERRIDES) {
    const fromEnv = env[o.env];
    const fromFlag = sources.flags?.[o.flag];
    const value = fromFlag ?? fromEnv;
    if (value === undefined) continue;
    setPath(raw, o.path, o.numeric && /^\d+$/.test(value) ? Number(value) : value);
    origins.set(o.path.join('.'), fromFlag !== undefined ? `--${kebab(o.flag)}` : o.env);
  }
  for (const o of ENV_ONLY) {
    if (env[o.env] === undefined) continue;
    setPath(raw, o.path, env[o.env]);
    origins.set(o.path.join('.'), o.env);
  }
  return resolveConfig(parseConfig(raw, origins), cwd);
}

/** `mandate config validate`: the issues of one file, empty when it is valid. */
export function validateConfigFile(path: string): ConfigIssue[] {
  try {
    parseConfig(readConfigFile(path), new Map());
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

function parseConfig(raw: unknown, origins: Map<string, string>): ParsedConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.flatMap((issue) => toIssues(issue, origins)));
}

function toIssues(issue: z.core.$ZodIssue, origins: Map<string, string>): ConfigIssue[] {
  // A member named "" would vanish from the dotted path (`audiences.`): spell it `""`.
  const base = issue.path.map((key) => (key === '' ? '""' : String(key)));
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({ path: [...base, key === '' ? '""' : key].join('.'), message: 'unknown key' }));
  const path = base.join('.') || '(root)';
  const source = origins.get(path);
  return [{ path, message: issue.message, ...(source ? { source } : {}) }];
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([{ path: '(file)', message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}` }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ path: '(file)', message: `${path} is not valid JSON: ${(error as Error).message}` }]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError([{ path: '(root)', message: 'expected a JSON object' }]);
  return parsed as Record<string, unknown>;
}

function resolveConfig(parsed: ParsedConfig, cwd: string): Config {
  const dataDir = resolve(cwd, parsed.dataDir);
  const checkpointFile = resolve(dataDir, parsed.audit.checkpointFile ?? 'audit-checkpoints.jsonl');
  return {
    ...parsed,
    issuer: parsed.issuer ?? `http://localhost:${parsed.server.port}`,
    dataDir,
    audit: { ...parsed.audit, checkpointFile },
  };
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
