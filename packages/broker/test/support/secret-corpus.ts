import { generateKeyPairSync, randomBytes, randomInt, randomUUID, createHash, sign } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CREDENTIAL_KINDS, type CredentialKind } from '../../src/core/finding.ts';
import { falseCases } from './secret-corpus-false.ts';

/**
 * The scanner's test corpus, generated at test time from crypto.randomBytes (never pasted):
 * true cases with valid formats and checksums for every credential kind, each in a file of the
 * kind an agent keeps its secrets in (.env, CI workflow, MCP client config, source, shell, INI),
 * and false cases: documented example keys, placeholders, service (non-human) tokens, UUIDs,
 * digests, base64 blobs, and JWTs whose subject is a SPIFFE ID or a service.
 */
export interface TrueCase {
  kind: CredentialKind;
  file: string;
  line: number;
  secret: string;
}

export interface Corpus {
  trueCases: TrueCase[];
  /** Files (relative to the corpus root) holding no borrowed human credential. */
  falseFiles: string[];
  /** Every secret-looking value written, true or false: none may appear in any output. */
  secrets: string[];
}

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const URLSAFE = `${BASE62}-_`;
export const BASE64 = `${BASE62}+/`;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function randomFrom(alphabet: string, length: number): string {
  let text = '';
  while (text.length < length) for (const byte of randomBytes(length)) if (byte < 256 - (256 % alphabet.length) && text.length < length) text += alphabet[byte % alphabet.length];
  return text;
}
const digits = (n: number) => `${randomInt(1, 10)}${randomFrom('0123456789', n - 1)}`;
export const hex = (n: number) => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
export const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;

/** GitHub's token checksum: CRC32 of the 30 random chars, base62, left-padded to 6 (zlib's CRC, not the scanner's). */
export function githubToken(prefix: string): string {
  const random = randomFrom(BASE62, 30);
  let value = crc32(random);
  let check = '';
  for (; value > 0; value = Math.floor(value / 62)) check = BASE62[value % 62] + check;
  return `${prefix}${random}${check.padStart(6, '0')}`;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A real ES256-signed compact JWT with the given claims. */
export function signedJwt(claims: Record<string, unknown>, alg = 'ES256'): string {
  const input = `${b64url({ alg, typ: 'JWT', kid: hex(8) })}.${b64url({ iat: 1760000000, exp: 1760003600, ...claims })}`;
  if (alg === 'none') return `${input}.${randomFrom(URLSAFE, 43)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const person = () => `${pick(['alice', 'bob', 'carol', 'dan', 'erin', 'frank'])}.${hex(4)}@${pick(['acme.example', 'example.com', 'corp.example.org'])}`;

/** One fresh secret of each kind, with the variable name an agent would keep it under. */
export const TRUE_SECRETS: Record<CredentialKind, () => { name: string; secret: string; extra?: string }> = {
  github_classic_pat: () => ({ name: 'GITHUB_PERSONAL_ACCESS_TOKEN', secret: githubToken('ghp_') }),
  github_fine_grained_pat: () => ({ name: 'GITHUB_TOKEN', secret: `github_pat_11${randomFrom(BASE62, 20)}_${randomFrom(BASE62, 59)}` }),
  gitlab_pat: () => ({
    name: 'GITLAB_TOKEN',
    secret: randomInt(2) === 0 ? `glpat-${randomFrom(URLSAFE, 20)}` : `glpat-${randomFrom(URLSAFE, 36)}.01.${randomFrom('0123456789abcdefghijklmnopqrstuvwxyz', 9)}`,
  }),
  slack_user_token: () => ({ name: 'SLACK_USER_TOKEN', secret: `xoxp-${digits(11)}-${digits(11)}-${digits(13)}-${hex(32)}` }),
  aws_access_key: () => ({ name: 'AWS_ACCESS_KEY_ID', secret: `AKIA${randomFrom(BASE32, 16)}`, extra: `AWS_SECRET_ACCESS_KEY=${randomFrom(BASE64, 40)}` }),
  google_refresh_token: () => ({ name: 'GOOGLE_REFRESH_TOKEN', secret: `1//0${pick(['g', '3', '4', '5', '6', 'd', 'e'])}${randomFrom(URLSAFE, 98)}` }),
  google_client_secret: () => ({ name: 'GOOGLE_CLIENT_SECRET', secret: `GOCSPX-${randomFrom(URLSAFE, 28)}` }),
  openai_api_key: () => ({
    name: 'OPENAI_API_KEY',
    secret: randomInt(2) === 0
      ? `sk-proj-${randomFrom(URLSAFE, 74)}T3BlbkFJ${randomFrom(URLSAFE, 74)}`
      : `sk-${randomFrom(BASE62, 20)}T3BlbkFJ${randomFrom(BASE62, 20)}`,
  }),
  anthropic_api_key: () => ({ name: 'ANTHROPIC_API_KEY', secret: `sk-ant-api03-${randomFrom(URLSAFE, 93)}AA` }),
  human_jwt: () => ({
    name: 'ID_TOKEN',
    secret: signedJwt(pick([
      () => ({ iss: 'https://login.acme.example', aud: 'https://api.acme.example', sub: person() }),
      () => ({ iss: 'https://acme.eu.auth0.com/', aud: 'https://api.acme.example', sub: `auth0|${hex(24)}`, email: person() }),
      () => ({ iss: 'https://acme.okta.com/oauth2/default', aud: 'api://default', sub: `00u${randomFrom(BASE62, 17)}` }),
      () => ({ iss: 'https://sso.acme.example/realms/acme', aud: 'account', sub: randomUUID(), preferred_username: person() }),
      () => ({ iss: 'https://login.microsoftonline.com/tid/v2.0', aud: randomUUID(), sub: randomFrom(URLSAFE, 43), upn: person() }),
    ])()),
  }),
};

/** Where agents keep secrets: each returns the file's lines with the secret line marked. */
type Template = (name: string, secret: string, extra?: string) => { path: string; lines: string[]; at: number };
const filler = (n: number) => Array.from({ length: n }, () => pick(['LOG_LEVEL=info', 'PORT=8080', 'NODE_ENV=production', 'REGION=eu-west-1', '# agent settings', '']));
const TEMPLATES: Template[] = [
  (name, secret, extra) => {
    const before = filler(randomInt(0, 6));
    return { path: '.env', lines: [...before, `${name}=${secret}`, ...(extra ? [extra] : []), ...filler(3)], at: before.length };
  },
  (name, secret, extra) => ({
    path: '.github/workflows/agent.yml',
    lines: ['name: agent', 'on: [push]', 'jobs:', '  run:', '    runs-on: ubuntu-latest', '    env:', `      ${name}: ${secret}`, ...(extra ? [`      ${extra.replace('=', ': ')}`] : []), '    steps:', '      - run: npm start'],
    at: 6,
  }),
  (name, secret, extra) => ({
    path: pick(['.cursor/mcp.json', 'claude_desktop_config.json', '.vscode/mcp.json']),
    lines: ['{', '  "mcpServers": {', '    "tools": {', '      "command": "npx",', '      "args": ["-y", "@acme/mcp-server"],', '      "env": {', `        "${name}": "${secret}"${extra ? ',' : ''}`, ...(extra ? [`        "${extra.split('=')[0]}": "${extra.split('=')[1]}"`] : []), '      }', '    }', '  }', '}'],
    at: 6,
  }),
  (name, secret, extra) => ({
    path: 'agent/config.py',
    lines: ['import os', '', '# TODO: move to a vault', `${name.toLowerCase()} = "${secret}"`, ...(extra ? [`${extra.split('=')[0]!.toLowerCase()} = "${extra.split('=')[1]}"`] : []), '', 'def main():', '    pass'],
    at: 3,
  }),
  (name, secret, extra) => ({
    path: 'src/agent.ts',
    lines: ["import { Agent } from './agent-core.js';", '', `const ${name.toLowerCase().replace(/_(.)/g, (_, c: string) => c.toUpperCase())} = '${secret}';`, ...(extra ? [`const secretKey = '${extra.split('=')[1]}';`] : []), 'export const agent = new Agent();'],
    at: 2,
  }),
  (name, secret, extra) => ({
    path: 'scripts/run.sh',
    lines: ['#!/bin/sh', 'set -eu', `export ${name}="${secret}"`, ...(extra ? [`export ${extra.replace('=', '="')}"`] : []), 'exec node dist/agent.js "$@"'],
    at: 2,
  }),
  (name, secret, extra) => ({
    path: 'config/agent.toml',
    lines: ['[agent]', 'name = "triage"', '', '[credentials]', `${name.toLowerCase()} = "${secret}"`, ...(extra ? [`${extra.split('=')[0]!.toLowerCase()} = "${extra.split('=')[1]}"`] : [])],
    at: 4,
  }),
];

const made = new Set<string>();
function write(root: string, path: string, text: string): void {
  const dir = dirname(join(root, path));
  if (!made.has(dir)) mkdirSync(dir, { recursive: true });
  made.add(dir);
  writeFileSync(join(root, path), text);
}

/** Writes `perKind` true cases of every kind and the false cases (see FALSE_CASES) under `root`. */
export function generateCorpus(root: string, perKind = 25): Corpus {
  const corpus: Corpus = { trueCases: [], falseFiles: [], secrets: [] };
  for (const kind of CREDENTIAL_KINDS) {
    for (let n = 0; n < perKind; n++) {
      const { name, secret, extra } = TRUE_SECRETS[kind]();
      const { path, lines, at } = pick(TEMPLATES)(name, secret, extra);
      const file = `true/${kind}-${n}/${path}`;
      write(root, file, `${lines.join('\n')}\n`);
      corpus.trueCases.push({ kind, file, line: at + 1, secret });
      corpus.secrets.push(secret, ...(extra ? [extra.split('=')[1]!] : []));
    }
  }
  for (const [index, { path, text, secrets }] of falseCases().entries()) {
    const file = `false/${index}/${path}`;
    write(root, file, text);
    corpus.falseFiles.push(file);
    corpus.secrets.push(...secrets);
  }
  return corpus;
}

export const fingerprint = (secret: string) => `sha256:${createHash('sha256').update(secret).digest('base64url')}`;
