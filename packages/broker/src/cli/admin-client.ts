import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';

/**
 * The CLI's side of the admin API. State-changing commands never open the store: they call the
 * running broker with an admin token, so every change is authenticated and audited the same way.
 */
export const DEFAULT_URL = 'http://localhost:7420';
export const DEFAULT_DATA_DIR = './.mandate';
export const ADMIN_TOKEN_FILE = 'admin-token';

export interface ClientFlags {
  url?: string;
  data?: string;
  json?: boolean;
}

export interface ClientSettings {
  url: string;
  token: string;
}

/** A usage or setup mistake on the command line: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A problem answered by the broker (RFC 9457 body): exit code 1. */
export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';
  constructor(readonly status: number, readonly code: string, readonly detail: string) {
    super(`${code}: ${detail}`);
  }
}

/** `--url` / `MANDATE_URL`; token from `MANDATE_ADMIN_TOKEN` or `<data>/admin-token` (`--data` / `MANDATE_DATA`). */
export function resolveSettings(flags: ClientFlags, env: Record<string, string | undefined> = process.env): ClientSettings {
  const url = (flags.url ?? env.MANDATE_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url must be an http(s) URL, got ${url}`);
  return { url, token: readAdminToken(flags.data ?? env.MANDATE_DATA ?? DEFAULT_DATA_DIR, env) };
}

function readAdminToken(dataDir: string, env: Record<string, string | undefined>): string {
  const fromEnv = env.MANDATE_ADMIN_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const file = join(resolve(dataDir), ADMIN_TOKEN_FILE);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new UsageError(`no admin token: set MANDATE_ADMIN_TOKEN or point --data at a directory holding ${ADMIN_TOKEN_FILE}`);
  }
}

export interface AdminClient {
  get(path: string): Promise<Record<string, unknown>>;
  post(path: string, body?: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export function createAdminClient(settings: ClientSettings): AdminClient {
  const call = async (method: string, path: string, body?: Record<string, unknown>) => {
    const headers: Record<string, string> = { authorization: `Bearer ${settings.token}`, accept: 'application/json' };
    if (body) headers['content-type'] = 'application/json';
    const response = await send(`${settings.url}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) }, settings.url);
    const payload = await readJson(response);
    if (!response.ok) throw problemOf(response.status, payload);
    return payload;
  };
  return { get: (path) => call('GET', path), post: (path, body) => call('POST', path, body) };
}

/** Network failures name the URL and the cause, never the request (which holds the token). */
async function send(url: string, init: RequestInit, base: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new AdminApiError(0, 'ERR_CLI_UNREACHABLE', `cannot reach ${base}: ${cause?.code ?? cause?.message ?? 'network error'}`);
  }
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function problemOf(status: number, body: Record<string, unknown>): AdminApiError {
  const code = typeof body.code === 'string' ? body.code : `HTTP_${status}`;
  const detail = typeof body.detail === 'string' ? body.detail : typeof body.error_description === 'string' ? body.error_description : 'request failed';
  return new AdminApiError(status, code, detail);
}

/** Adds the options every admin-API command shares. */
export function withClientOptions(command: Command): Command {
  return command
    .option('--url <url>', `broker URL (env MANDATE_URL, default ${DEFAULT_URL})`)
    .option('--data <dir>', `data directory holding ${ADMIN_TOKEN_FILE} (env MANDATE_DATA, default ${DEFAULT_DATA_DIR})`)
    .option('--json', 'print JSON');
}
