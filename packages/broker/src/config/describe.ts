import { z } from 'zod';
import { ENV_ONLY, OVERRIDES } from './load.ts';
import { configSchema } from './schema.ts';

export interface ConfigKey {
  path: string;
  type: string;
  default?: unknown;
  description: string;
  env?: string;
  flag?: string;
}

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
};

/** The config schema as JSON Schema (input side: durations are strings). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** Every leaf key with its type, default, description and overriding env var / flag. */
export function describeConfig(): ConfigKey[] {
  return walk(configJsonSchema() as JsonSchema, []);
}

function walk(schema: JsonSchema, path: string[]): ConfigKey[] {
  if (schema.properties) return Object.entries(schema.properties).flatMap(([key, child]) => walk(child, [...path, key]));
  if (typeof schema.additionalProperties === 'object') return [leaf(schema, path, 'map')];
  return [leaf(schema, path, typeName(schema))];
}

function leaf(schema: JsonSchema, path: string[], type: string): ConfigKey {
  const dotted = path.join('.');
  const override = OVERRIDES.find((o) => o.path.join('.') === dotted);
  const envOnly = ENV_ONLY.find((o) => o.path.join('.') === dotted);
  return {
    path: dotted,
    type,
    ...(schema.default !== undefined ? { default: schema.default } : {}),
    description: schema.description ?? '',
    ...(override ? { env: override.env, flag: `--${override.flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` } : {}),
    ...(envOnly ? { env: envOnly.env } : {}),
  };
}

function typeName(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.type === 'array') return `${schema.items ? typeName(schema.items) : 'any'}[]`;
  return Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any');
}

/** The markdown table in docs/configuration.md. */
export function configMarkdownTable(): string {
  const rows = describeConfig().map((k) => {
    const def = k.default === undefined ? '' : `\`${JSON.stringify(k.default)}\``;
    const override = k.env ? (k.flag ? `\`${k.env}\`, \`${k.flag}\`` : `\`${k.env}\``) : '';
    return `| \`${k.path}\` | ${k.type.replaceAll('|', '\\|')} | ${def} | ${override} | ${k.description.replaceAll('|', '\\|')} |`;
  });
  return ['| Key | Type | Default | Env / flag | Description |', '|---|---|---|---|---|', ...rows].join('\n');
}
