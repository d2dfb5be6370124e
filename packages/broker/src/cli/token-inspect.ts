import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ioOf, printable } from './cli-output.ts';

/** What `token inspect` found in a compact JWT, without checking anything about it. */
export interface DecodedJwt {
  kind: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** Malformed input: one line on stderr, exit code 1 (the data is wrong, not the command line). */
class InspectError extends Error {
  readonly code = 'ERR_CLI_TOKEN_MALFORMED';
}

const NOT_VERIFIED = 'NOT VERIFIED: decoded only. Signature, issuer, audience, expiry and revocation were not checked.';
const KINDS: Record<string, string> = {
  'at+jwt': 'access token (RFC 9068)',
  'application/at+jwt': 'access token (RFC 9068)',
  'attestation-result+jwt': 'attestation result',
  'dpop+jwt': 'DPoP proof (RFC 9449)',
  'audit-head+jwt': 'sealed audit head',
  'statuslist+jwt': 'token status list',
  'secevent+jwt': 'security event token',
};
/** Claims holding epoch seconds, shown as UTC times too. */
const TIME_CLAIMS = new Set(['iat', 'nbf', 'exp', 'auth_time', 'approved_at', 'notAfter']);

/** `mandate token inspect <jwt|->`: prints a JWT's header and claims. Decodes only; verifies nothing. */
export function registerTokenInspectCommand(token: Command): void {
  token
    .command('inspect <jwt>')
    .description('Decode (NOT verify) an access token, attestation result or other JWT; "-" reads it from stdin')
    .option('--json', 'print JSON')
    .action((jwt: string, options: { json?: boolean }, command: Command) => {
      const io = ioOf(command);
      try {
        const decoded = decodeToken(jwt === '-' ? readFileSync(0, 'utf8') : jwt);
        if (options.json) io.out(`${JSON.stringify({ verified: false, ...decoded }, null, 2)}\n`);
        else io.out(formatDecoded(decoded, Date.now()));
      } catch (error) {
        if (!(error instanceof InspectError)) throw error;
        io.err(`error: ${error.code}: ${error.message}\n`);
        process.exitCode = 1;
      }
    });
}

export function decodeToken(text: string): DecodedJwt {
  const jwt = text.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(jwt)) throw new InspectError('not a compact JWS (header.payload.signature in base64url)');
  try {
    const header = decodeProtectedHeader(jwt) as Record<string, unknown>;
    const claims = decodeJwt(jwt) as Record<string, unknown>;
    const typ = typeof header.typ === 'string' ? header.typ : '';
    return { kind: KINDS[typ.toLowerCase()] ?? (typ ? `JWT (typ ${typ})` : 'JWT'), header, claims };
  } catch (error) {
    throw new InspectError(`cannot decode: ${(error as Error).message}`);
  }
}

/** Header and claims as indented `name  value` lines, nested objects flattened with dots. */
export function formatDecoded(decoded: DecodedJwt, nowMs: number): string {
  const lines = [NOT_VERIFIED, `kind: ${decoded.kind}`, 'header:', ...formatFields(decoded.header, nowMs, '  '), 'claims:', ...formatFields(decoded.claims, nowMs, '  ')];
  return lines.map((line) => `${printable(line)}\n`).join('');
}

/** One line per leaf value; used for claims here and in `mandate demo`. */
export function formatFields(record: Record<string, unknown>, nowMs: number, indent = ''): string[] {
  const leaves = flatten(record, '');
  const width = Math.max(0, ...leaves.map(([key]) => key.length));
  return leaves.map(([key, value]) => `${indent}${key.padEnd(width)}  ${describeValue(key, value, nowMs)}`);
}

function flatten(value: unknown, prefix: string): Array<[string, unknown]> {
  if (Array.isArray(value) && value.some((item) => typeof item === 'object' && item !== null))
    return value.flatMap((item, i) => flatten(item, `${prefix}[${i}]`));
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0)
    return Object.entries(value).flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
  return [[prefix, value]];
}

function describeValue(key: string, value: unknown, nowMs: number): string {
  const name = key.slice(key.lastIndexOf('.') + 1);
  if (TIME_CLAIMS.has(name) && typeof value === 'number' && Number.isFinite(value)) return `${value} (${timeOf(value, name, nowMs)})`;
  if (Array.isArray(value)) return value.map((item) => String(item)).join(', ');
  if (typeof value === 'object' && value !== null) return '{}';
  return String(value);
}

function timeOf(seconds: number, name: string, nowMs: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return 'not a time';
  const iso = date.toISOString().replace('.000Z', 'Z');
  if (name !== 'exp') return iso;
  const left = Math.round(seconds - nowMs / 1000);
  return left > 0 ? `${iso}, in ${span(left)}` : `${iso}, expired ${span(-left)} ago`;
}

function span(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}
